import ConvergeCore
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import ConvergeServer

/// `POST /v1/analyses` reads its input as `converge analyze` reads a survey folder (found by a review: the API
/// kept a prompt's trailing newline and analysed answers of white space only): the prompt trimmed, white space
/// only as no prompt; an empty or blank answer refused with a 422 naming it by index.
@Suite struct AnalysesInputTests {
    func analyse(_ client: some TestClientProtocol, prompt: String?, answers: [String]) async throws -> TestResponse {
        var body: [String: Any] = ["answers": answers.enumerated().map { ["panelist": "p\($0.offset)", "text": $0.element] },
                                   "similarity": "lexical"]
        if let prompt { body["prompt"] = prompt }
        return try await client.execute(uri: "/v1/analyses", method: .post, headers: Fixture.jsonHeaders, body: try Fixture.json(body))
    }

    @Test func thePromptIsTrimmedAsTheCommandLineTrimsIt() async throws {
        try await Fixture.app().test(.router) { client in
            let answers = ["Measure before you cache.\n", "Caching needs invalidation; measure first."]
            let plain = try await analyse(client, prompt: "Should we cache?", answers: answers)
            #expect(plain.status == .ok)
            for prompt in ["Should we cache?\n", "  Should we cache?\r\n\n", "\tShould we cache? "] {
                let response = try await analyse(client, prompt: prompt, answers: answers)
                #expect(response.status == .ok)
                let report = try JSONDecoder().decode(Report.self, from: Data(response.body.readableBytesView))
                #expect(report.prompt == "Should we cache?", "\(prompt.debugDescription)")
                #expect(String(buffer: response.body) == String(buffer: plain.body), "the same report as without the white space")
            }
            // White space only is no prompt; answers keep their own white space (offsets index them as given).
            let blank = try await analyse(client, prompt: " \n\t", answers: answers)
            #expect(blank.status == .ok)
            let report = try JSONDecoder().decode(Report.self, from: Data(blank.body.readableBytesView))
            #expect(report.prompt == nil)
            let none = try await analyse(client, prompt: nil, answers: answers)
            #expect(String(buffer: blank.body) == String(buffer: none.body))
        }
    }

    @Test(arguments: ["  \n\t\r\n", "\u{00A0}\u{2003}\u{3000}", "\n"])
    func blankAnswersAreRefusedNamingTheirIndex(_ text: String) async throws {
        try await Fixture.app().test(.router) { client in
            let response = try await analyse(client, prompt: "Q?", answers: ["Measure first.", "Invalidate.", text])
            #expect(response.status == .unprocessableContent)
            let error = try #require(Fixture.error(response.body))
            #expect(error.code == "unprocessable")
            #expect(error.field == "answers[2].text")
            #expect(error.message == "answers[2].text: the answer is blank (white space only)")
        }
    }

    /// An empty answer breaks the schema (`minLength: 1`): 400, as an empty prompt of a survey is.
    @Test func anEmptyAnswerIsASchemaError() async throws {
        try await Fixture.app().test(.router) { client in
            let response = try await analyse(client, prompt: "Q?", answers: ["Measure first.", ""])
            #expect(response.status == .badRequest)
            let error = try #require(Fixture.error(response.body))
            #expect(error.code == "invalid_field")
            #expect(error.field == "answers[1].text")
            #expect(error.message.contains("must not be empty"), "\(error.message)")
        }
    }
}
