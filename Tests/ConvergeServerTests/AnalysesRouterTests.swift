import ConvergeAnalysis
import ConvergeCore
import ConvergeReport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import ConvergeServer

/// `POST /v1/analyses` through the router (`app.test(.router)`): the same report as `converge analyze`, the
/// formats, and every kind of bad input answered with the JSON error shape and the right status.
@Suite struct AnalysesRouterTests {
    /// A rubric whose category repeats an item id.
    static let repeatedItemID = #"{"answers": [{"panelist": "a", "text": "x"}], "rubric": {"title": "T", "categories": "#
        + #"[{"name": "c", "items": [{"id": "i", "text": "t"}, {"id": "i", "text": "u"}]}]}}"#

    @Test func exampleReportEqualsTheCLIAnalysis() async throws {
        let expected = Analyzer().analyze(try Fixture.exampleInput())
        let app = try Fixture.app()
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/analyses", method: .post, headers: Fixture.jsonHeaders,
                                     body: try Fixture.json(Fixture.exampleRequest())) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/json; charset=utf-8")
                let report = try JSONDecoder().decode(Report.self, from: Data(response.body.readableBytesView))
                #expect(report == expected)
                // Byte for byte what `converge analyze --format json` prints (but its final line break).
                #expect(String(buffer: response.body) + "\n" == JSONRenderer.render(expected))
                // Key facts of the example (README): three panelists, the years conflict, AI tools omitted.
                #expect(report.panelists.map(\.id) == ["ai-1", "ai-2", "ai-3"])
                #expect(report.conflicts.contains { $0.values.map(\.value).contains("5+ years") })
                #expect(report.omissions.contains { $0.item == "ai-tools" })
                #expect(report.convergence.index > 0 && report.convergence.index < 1)
            }
        }
    }

    @Test func structuredRubricGivesTheSameReportAsYAML() async throws {
        let input = try Fixture.exampleInput()
        let rubric = try #require(input.rubric)
        var request = try Fixture.exampleRequest()
        request["rubric"] = [
            "title": rubric.title,
            "categories": rubric.categories.map { category in
                ["name": category.name, "items": category.items.map { ["id": $0.id, "text": $0.text] }] as [String: Any]
            },
        ] as [String: Any]
        let expected = Analyzer().analyze(input)
        let body = try Fixture.json(request)
        try await Fixture.app().test(.router) { client in
            try await client.execute(uri: "/v1/analyses", method: .post, headers: Fixture.jsonHeaders,
                                     body: body) { response in
                #expect(response.status == .ok)
                let report = try JSONDecoder().decode(Report.self, from: Data(response.body.readableBytesView))
                #expect(report == expected)
            }
        }
    }

    @Test func blindHidesIdsAndModels() async throws {
        var request = try Fixture.exampleRequest(blind: true)
        request["answers"] = [
            ["panelist": "gpt", "label": "GPT-4o", "model": "openai/gpt-4o", "text": "Use Go for services. Write tests."],
            ["panelist": "claude", "model": "anthropic/claude-sonnet-4-5", "text": "Use Go. Write many tests."],
        ]
        request["rubric"] = nil
        let body = try Fixture.json(request)
        try await Fixture.app().test(.router) { client in
            try await client.execute(uri: "/v1/analyses", method: .post, headers: Fixture.jsonHeaders,
                                     body: body) { response in
                #expect(response.status == .ok)
                let text = String(buffer: response.body)
                let report = try JSONDecoder().decode(Report.self, from: Data(text.utf8))
                #expect(report.panelists.map(\.label) == ["AI 1", "AI 2"])
                #expect(report.panelists.allSatisfy { $0.model == nil })
                for hidden in ["gpt", "GPT-4o", "claude", "openai/"] { #expect(!text.contains(hidden), "\(hidden)") }
            }
        }
    }

    @Test func formatsByQueryAndAcceptHeader() async throws {
        let expected = Analyzer().analyze(try Fixture.exampleInput())
        let body = try Fixture.json(Fixture.exampleRequest())
        try await Fixture.app().test(.router) { client in
            try await client.execute(uri: "/v1/analyses?format=md", method: .post, headers: Fixture.jsonHeaders,
                                     body: body) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/markdown") == true)
                #expect(String(buffer: response.body) == ReportRenderer.render(expected, format: .md))
            }
            var headers = Fixture.jsonHeaders
            headers[.accept] = "text/csv"
            try await client.execute(uri: "/v1/analyses", method: .post, headers: headers, body: body) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/csv") == true)
                #expect(String(buffer: response.body) == ReportRenderer.render(expected, format: .csv))
            }
            headers[.accept] = "text/markdown;q=0.5, application/json"
            try await client.execute(uri: "/v1/analyses", method: .post, headers: headers, body: body) { response in
                #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
            }
            headers[.accept] = "image/png"
            try await client.execute(uri: "/v1/analyses", method: .post, headers: headers, body: body) { response in
                #expect(response.status == .notAcceptable)
                #expect(Fixture.error(response.body)?.code == "not_acceptable")
            }
            try await client.execute(uri: "/v1/analyses?format=xml", method: .post, headers: Fixture.jsonHeaders,
                                     body: body) { response in
                #expect(response.status == .badRequest)
                #expect(Fixture.error(response.body) != nil)
            }
        }
    }

    /// Each bad request, its status, code and the field named.
    @Test(arguments: [
        ("{\"answers\": [", 400, "invalid_json", nil),
        ("[]", 400, "invalid_field", "body"),
        ("{}", 400, "invalid_field", "answers"),
        ("{\"answers\": []}", 400, "invalid_field", "answers"),
        ("{\"answers\": [{\"panelist\": \"a\"}]}", 400, "invalid_field", "answers[0].text"),
        ("{\"answers\": [{\"panelist\": \"a\", \"text\": 3}]}", 400, "invalid_field", "answers[0].text"),
        ("{\"answers\": [{\"panelist\": \"\", \"text\": \"x\"}]}", 400, "invalid_field", "answers[0].panelist"),
        ("{\"answers\": [{\"panelist\": \"a\", \"text\": \"x\", \"colour\": 1}]}", 400, "invalid_field", "answers[0]"),
        ("{\"answers\": [{\"panelist\": \"a\", \"text\": \"x\"}], \"blind\": \"yes\"}", 400, "invalid_field", "blind"),
        ("{\"answers\": [{\"panelist\": \"a\", \"text\": \"x\"}], \"similarity\": \"magic\"}", 400, "invalid_field", "similarity"),
        ("{\"answers\": [{\"panelist\": \"a\", \"text\": \"x\"}], \"rubric\": null}", 400, "invalid_field", "rubric"),
        ("{\"answers\": [{\"panelist\": \"a\", \"text\": \"x\", \"model\": null}]}", 400, "invalid_field", "answers[0].model"),
        ("{\"answers\": [{\"panelist\": \"a\", \"text\": \"x\"}], \"rubric\": \"title: [\"}", 422, "unprocessable", "rubric"),
        (#"{"answers": [{"panelist": "a", "text": "x"}], "rubric": "title: T\ncategories: []"}"#, 422, "unprocessable",
         "rubric.categories"),
        (Self.repeatedItemID, 422, "unprocessable", "rubric.categories[0].items[1].id"),
        (#"{"answers": [{"panelist": "a", "text": "x"}], "rubric": {"title": "T", "categories": []}}"#, 400, "invalid_field",
         "rubric.categories"),
    ] as [(String, Int, String, String?)])
    func badRequests(body: String, status: Int, code: String, field: String?) async throws {
        try await Fixture.app().test(.router) { client in
            try await client.execute(uri: "/v1/analyses", method: .post, headers: Fixture.jsonHeaders,
                                     body: ByteBuffer(string: body)) { response in
                #expect(Int(response.status.code) == status, "\(String(buffer: response.body))")
                let error = Fixture.error(response.body)
                #expect(error?.code == code, "\(String(buffer: response.body))")
                if let field {
                    #expect(error?.field == field || error?.message.contains(field) == true,
                            "\(String(buffer: response.body))")
                }
            }
        }
    }

    @Test func wrongMediaTypeIs415AndMissingBodyIs400() async throws {
        try await Fixture.app().test(.router) { client in
            try await client.execute(uri: "/v1/analyses", method: .post, headers: [.contentType: "text/plain"],
                                     body: ByteBuffer(string: "{}")) { response in
                #expect(response.status == .unsupportedMediaType)
                #expect(Fixture.error(response.body)?.code == "unsupported_media_type")
            }
            try await client.execute(uri: "/v1/analyses", method: .post) { response in
                #expect(response.status.code == 400 || response.status.code == 415)
                #expect(Fixture.error(response.body) != nil)
            }
        }
    }

    @Test func oversizedBodyIs413() async throws {
        let answer = String(repeating: "All good engineers write tests. ", count: 200)
        let body = try Fixture.json(["answers": [["panelist": "a", "text": answer]]])
        #expect(body.readableBytes > 4096)
        try await Fixture.app(maxBodyBytes: 4096).test(.router) { client in
            // Without Content-Length (the body is read up to the limit) and with it (refused at once).
            try await client.execute(uri: "/v1/analyses", method: .post, headers: Fixture.jsonHeaders,
                                     body: body) { response in
                #expect(response.status == .contentTooLarge)
                #expect(Fixture.error(response.body)?.code == "payload_too_large")
            }
            var headers = Fixture.jsonHeaders
            headers[.contentLength] = "\(body.readableBytes)"
            try await client.execute(uri: "/v1/analyses", method: .post, headers: headers, body: body) { response in
                #expect(response.status == .contentTooLarge)
            }
            let small = try Fixture.json(["answers": [["panelist": "a", "text": "Write tests."]]])
            try await client.execute(uri: "/v1/analyses", method: .post, headers: Fixture.jsonHeaders,
                                     body: small) { response in
                #expect(response.status == .ok)
            }
        }
    }
}
