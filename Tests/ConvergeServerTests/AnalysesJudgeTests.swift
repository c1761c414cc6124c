import ConvergeCore
import ConvergeProviders
import ConvergeTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
@testable import ConvergeServer

/// `POST /v1/analyses` with `judge`: a scripted judge on loopback, the provider and key from the server's
/// environment, never from the request.
@Suite struct AnalysesJudgeTests {
    func app(_ server: ProviderTestServer, key: String? = "sk-judge-secret") throws -> some ApplicationProtocol {
        var environment = ["OPENAI_BASE_URL": server.baseURL + "/v1"]
        environment["OPENAI_API_KEY"] = key
        let configuration = ServerConfiguration(host: "127.0.0.1", port: 0, tokens: try APITokens(parsing: ""),
                                                maxBodyBytes: ServerConfiguration.defaultMaxBodyBytes)
        return try ServerRoot(configuration: configuration, providers: ProviderDirectory(environment: environment),
                              logger: Logger(label: "test") { _ in LogCapture().handler }).application
    }

    @Test func theJudgesVerifiedClaimsComeBackInTheReport() async throws {
        let server = try await ProviderTestServer.start()
        defer { Task { try? await server.shutdown() } }
        server.script("judge", [.answer("""
            {"consensus": [{"point": "Reviews", "supporters": [
              {"panelist": "AI 1", "quote": "Review code carefully before merging"},
              {"panelist": "AI 2", "quote": "Review code carefully before merging"}]}],
             "unique": [{"point": "Invented", "supporters": [{"panelist": "AI 1", "quote": "never write any tests at all"}]}]}
            """)])
        var request = ["answers": [["panelist": "a", "text": "Write tests first. Review code carefully before merging."],
                                   ["panelist": "b", "text": "Review code carefully before merging. Mentor juniors."]]]
            as [String: Any]
        request["judge"] = "openai/judge"
        let body = try Fixture.json(request)
        try await app(server).test(.router) { client in
            try await client.execute(uri: "/v1/analyses", method: .post, headers: Fixture.jsonHeaders,
                                     body: body) { response in
                #expect(response.status == .ok)
                let report = try JSONDecoder().decode(Report.self, from: Data(response.body.readableBytesView))
                let judge = try #require(report.judge)
                #expect(judge.status == .verified)
                #expect(judge.consensus.first?.support == ["a", "b"])
                #expect(judge.dropped.map(\.text) == ["Invented"])
                #expect(!String(buffer: response.body).contains("sk-judge-secret"))
            }
        }
        #expect(server.requests(model: "judge").count == 1)
    }

    @Test func aBadJudgeIsRefusedNamingTheFieldBeforeAnyRequest() async throws {
        let server = try await ProviderTestServer.start()
        defer { Task { try? await server.shutdown() } }
        let answers = [["panelist": "a", "text": "Review code."]]
        try await app(server, key: nil).test(.router) { client in
            for (judge, status) in [("gpt-4o", HTTPResponse.Status.badRequest), ("openai/judge", .unprocessableContent),
                                    ("nowhere/judge", .unprocessableContent)] {
                try await client.execute(uri: "/v1/analyses", method: .post, headers: Fixture.jsonHeaders,
                                         body: try Fixture.json(["answers": answers, "judge": judge])) { response in
                    #expect(response.status == status, "\(judge)")
                    #expect(Fixture.error(response.body)?.field == "judge", "\(judge)")
                }
            }
        }
        #expect(server.requests.isEmpty)
    }
}
