import ConvergeCore
import ConvergeStore
import ConvergeRunner
import ConvergeProviders
import ConvergeTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import ConvergeServer

/// The survey operations through the router (`app.test(.router)`), with a ProviderTestServer as the panel, on
/// SQLite and PostgreSQL.
@Suite(.serialized) struct SurveysRouterTests {
    static let rubric = """
        title: Caching
        categories:
          - name: Basics
            items:
              - {id: measure, text: Measure before caching}
        """

    func post(_ client: some TestClientProtocol, _ uri: String, _ body: Any,
              headers: HTTPFields = Fixture.jsonHeaders) async throws -> TestResponse {
        try await client.execute(uri: uri, method: .post, headers: headers, body: try Fixture.json(body))
    }

    func get(_ client: some TestClientProtocol, _ uri: String) async throws -> TestResponse {
        try await client.execute(uri: uri, method: .get)
    }

    @Test(arguments: TestDatabase.allCases)
    func surveyRunsStreamsEventsAndReportsInEveryFormat(_ database: TestDatabase) async throws {
        try await withSurveyFixture(database) { fixture in
            // Slow enough that the event stream is connected before the first answer arrives.
            fixture.provider.script("alpha", [.answer("Alpha: measure before you cache.", delay: 0.4),
                                              .answer("Alpha again: invalidation is hard.", delay: 0.2)])
            fixture.provider.script("beta", [.answer("Beta: caching needs invalidation; measure first.", delay: 0.6),
                                             .answer("Beta again: measure hit rates.", delay: 0.2)])
            let seen = try await fixture.app().test(.router) { client -> String in
                var seen = ""
                let created = try await post(client, "/v1/surveys", [
                    "prompt": "Should we cache?", "followUps": ["And when not?"], "rubric": Self.rubric,
                    "panel": ["openai/alpha", ["model": "openai/beta", "id": "b", "label": "Beta"]],
                ])
                #expect(created.status == .accepted)
                let body = try #require(Fixture.object(created.body))
                let id = try #require(body["id"] as? String)
                #expect(created.headers[.location] == "/v1/surveys/\(id)")
                #expect(body["status"] as? String == "running")
                #expect((body["links"] as? [String: String])?["events"] == "/v1/surveys/\(id)/events")
                seen += String(buffer: created.body)

                let stream = try await get(client, "/v1/surveys/\(id)/events")
                #expect(stream.status == .ok)
                #expect(stream.headers[.contentType]?.hasPrefix("text/event-stream") == true)
                let text = String(buffer: stream.body)
                seen += text
                let events = ParsedEvent.parse(text)
                #expect(events.first?.name == "state")
                #expect(events.last?.name == "complete")
                #expect(events.last?.data["status"] as? String == "complete")
                #expect(events.last?.data["report"] as? String == "/v1/surveys/\(id)/report")
                // Every answer arrived live, in the order the panel gave them: alpha's first turn before beta's.
                let responses = events.filter { $0.name == "response" }
                #expect(responses.count == 4)
                #expect(responses.first?.data["text"] as? String == "Alpha: measure before you cache.")
                #expect(Set(responses.compactMap { $0.data["panelist"] as? String }) == ["alpha", "b"])
                let progress = events.filter { $0.name == "progress" }
                // First-turn requests may have started before the client connected (`state` shows them pending);
                // every answer comes after.
                #expect(progress.filter { $0.data["type"] as? String == "started" }.count >= 2)
                #expect(progress.filter { $0.data["type"] as? String == "answered" }.count == 4)
                #expect(progress.filter { $0.data["type"] as? String == "answered" }.allSatisfy {
                    ($0.data["latencyMs"] as? Int ?? -1) >= 150
                })

                let detail = try await get(client, "/v1/surveys/\(id)")
                #expect(detail.status == .ok)
                let object = try #require(Fixture.object(detail.body))
                #expect(object["status"] as? String == "complete")
                let turns = try #require(object["turns"] as? [[String: Any]])
                #expect(turns.count == 2)
                let requests = turns.flatMap { $0["requests"] as? [[String: Any]] ?? [] }
                #expect(requests.count == 4)
                #expect(requests.allSatisfy { $0["state"] as? String == "answered" && $0["text"] is String
                    && ($0["latencyMs"] as? Int ?? -1) >= 0 && $0["outputTokens"] is Int })
                seen += String(buffer: detail.body)

                // A late client gets the state, then `complete` at once.
                let late = ParsedEvent.parse(String(buffer: try await get(client, "/v1/surveys/\(id)/events").body))
                #expect(late.map(\.name) == ["state", "complete"])

                let expectedTypes = ["json": "application/json", "md": "text/markdown", "csv": "text/csv", "html": "text/html"]
                for (format, type) in expectedTypes {
                    let report = try await get(client, "/v1/surveys/\(id)/report?format=\(format)")
                    #expect(report.status == .ok)
                    #expect(report.headers[.contentType]?.hasPrefix(type) == true, "\(format)")
                    seen += String(buffer: report.body)
                }
                let json = try JSONDecoder().decode(Report.self, from: Data(
                    try await get(client, "/v1/surveys/\(id)/report").body.readableBytesView))
                #expect(json.prompt == "And when not?")
                #expect(json.panelists.map(\.id) == ["alpha", "b"])
                #expect(json.rubric?.title == "Caching")
                let html = String(buffer: try await get(client, "/v1/surveys/\(id)/report?format=html").body)
                #expect(html.hasPrefix("<!DOCTYPE html>"))
                #expect(html.contains("Beta"))
                return seen
            }
            // No provider key anywhere: responses, events, stored rows.
            #expect(!seen.contains(SurveyFixture.providerKey))
            for survey in try await fixture.store.surveys(limit: 10, offset: 0) {
                #expect(!String(decoding: survey.spec, as: UTF8.self).contains(SurveyFixture.providerKey))
                for row in try await fixture.store.requests(surveyID: survey.id) {
                    #expect(!String(decoding: row.request, as: UTF8.self).contains(SurveyFixture.providerKey))
                    #expect(row.error?.contains(SurveyFixture.providerKey) != true)
                }
            }
            // The provider did get the key (from the server's environment).
            #expect(fixture.provider.requests.allSatisfy { $0.header("authorization") == "Bearer \(SurveyFixture.providerKey)" })
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func listPagesNewestFirst(_ database: TestDatabase) async throws {
        try await withSurveyFixture(database) { fixture in
            try await fixture.app().test(.router) { client in
                var ids: [String] = []
                for n in 1...3 {
                    let created = try await post(client, "/v1/surveys", ["prompt": "Question \(n)?", "panel": ["openai/m"]])
                    ids.append(try #require(Fixture.object(created.body)?["id"] as? String))
                    await fixture.service.waitUntilIdle()
                    try await Task.sleep(for: .milliseconds(20))
                }
                let first = try #require(Fixture.object(try await get(client, "/v1/surveys?limit=2").body))
                let firstIDs = (first["surveys"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
                #expect(firstIDs == [ids[2], ids[1]])
                #expect(first["limit"] as? Int == 2)
                let second = try #require(Fixture.object(try await get(client, "/v1/surveys?limit=2&offset=2").body))
                let secondSurveys = second["surveys"] as? [[String: Any]] ?? []
                #expect(secondSurveys.compactMap { $0["id"] as? String } == [ids[0]])
                #expect(secondSurveys.first?["status"] as? String == "complete")
                #expect(secondSurveys.first?["prompt"] as? String == "Question 1?")
                let all = Fixture.object(try await get(client, "/v1/surveys").body)?["surveys"] as? [[String: Any]]
                #expect(all?.count == 3)
                for bad in ["limit=0", "limit=101", "offset=-1"] {
                    let response = try await get(client, "/v1/surveys?\(bad)")
                    #expect(response.status == .badRequest, "\(bad)")
                }
            }
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func followUpContinuesEveryThread(_ database: TestDatabase) async throws {
        try await withSurveyFixture(database) { fixture in
            fixture.provider.script("alpha", [.answer("A1"), .answer("A2")])
            fixture.provider.script("beta", [.answer("B1"), .answer("B2")])
            try await fixture.app().test(.router) { client in
                let created = try await post(client, "/v1/surveys", ["prompt": "P1", "panel": ["openai/alpha", "openai/beta"]])
                let id = try #require(Fixture.object(created.body)?["id"] as? String)
                await fixture.service.waitUntilIdle()
                let followUp = try await post(client, "/v1/surveys/\(id)/follow-ups", ["prompt": "P2"])
                #expect(followUp.status == .accepted)
                #expect(followUp.headers[.location] == "/v1/surveys/\(id)")
                let events = ParsedEvent.parse(String(buffer: try await get(client, "/v1/surveys/\(id)/events").body))
                #expect(events.last?.name == "complete")
                await fixture.service.waitUntilIdle()
                // Each thread's second request carries its own first turn; the first turn was not asked again.
                for (model, first, second) in [("alpha", "A1", "A2"), ("beta", "B1", "B2")] {
                    let requests = fixture.provider.requests(model: model)
                    #expect(requests.count == 2)
                    #expect(requests.last?.messages.map(\.description) == ["user: P1", "assistant: \(first)", "user: P2"])
                    _ = second
                }
                let report = try JSONDecoder().decode(Report.self, from: Data(
                    try await get(client, "/v1/surveys/\(id)/report").body.readableBytesView))
                #expect(report.prompt == "P2")
                let detail = try #require(Fixture.object(try await get(client, "/v1/surveys/\(id)").body))
                #expect((detail["turns"] as? [Any])?.count == 2)
                #expect(detail["status"] as? String == "complete")
            }
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func conflictsWhileRunningThenDelete(_ database: TestDatabase) async throws {
        try await withSurveyFixture(database) { fixture in
            fixture.provider.script("slow", [.answer("slow answer", delay: 1.5)])
            try await fixture.app().test(.router) { client in
                let created = try await post(client, "/v1/surveys", ["prompt": "Slow?", "panel": ["openai/slow"]])
                let id = try #require(Fixture.object(created.body)?["id"] as? String)
                let report = try await get(client, "/v1/surveys/\(id)/report")
                #expect(report.status == .conflict)
                #expect(Fixture.error(report.body)?.code == "conflict")
                #expect(try await post(client, "/v1/surveys/\(id)/follow-ups", ["prompt": "More?"]).status == .conflict)
                #expect(try await client.execute(uri: "/v1/surveys/\(id)", method: .delete).status == .conflict)
                let running = Fixture.object(try await get(client, "/v1/surveys/\(id)").body)
                #expect(running?["status"] as? String == "running")
                await fixture.service.waitUntilIdle()

                #expect(try await client.execute(uri: "/v1/surveys/\(id)", method: .delete).status == .noContent)
                #expect(try await get(client, "/v1/surveys/\(id)").status == .notFound)
                #expect(try await client.execute(uri: "/v1/surveys/\(id)", method: .delete).status == .notFound)
                #expect(try await fixture.store.requests(surveyID: id).isEmpty)
            }
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func aSurveyAnotherLiveProcessAsksIsLeftAlone(_ database: TestDatabase) async throws {
        try await withSurveyFixture(database) { fixture in
            try await fixture.app().test(.router) { client in
                let created = try await post(client, "/v1/surveys", ["prompt": "Q?", "panel": ["openai/m"]])
                let id = try #require(Fixture.object(created.body)?["id"] as? String)
                await fixture.service.waitUntilIdle()
                #expect(try await fixture.store.survey(id: id).owner == nil)  // released when the run ended
                // PID 1 is alive on every host: as if `converge ask` or another server were asking it now.
                let other = "\(ProcessInfo.processInfo.hostName):1"
                #expect(try await fixture.store.claim(surveyID: id, owner: other, expected: nil))
                let followUp = try await post(client, "/v1/surveys/\(id)/follow-ups", ["prompt": "More?"])
                #expect(followUp.status == .conflict)
                #expect(Fixture.error(followUp.body)?.message.contains("process 1") == true)
                #expect(try await client.execute(uri: "/v1/surveys/\(id)", method: .delete).status == .conflict)
                #expect(try await fixture.store.turns(surveyID: id).count == 1)
                #expect(fixture.provider.requests.count == 1)
            }
        }
    }

    /// A NUL in an answer would be cut there on the way back from SQLite and refused by PostgreSQL: it is stored
    /// as U+FFFD (one scalar for one, so quotes keep their offsets). A NUL in a prompt is refused.
    @Test(arguments: TestDatabase.allCases)
    func aNulInAnAnswerIsKeptAsAReplacementAndInAPromptRefused(_ database: TestDatabase) async throws {
        try await withSurveyFixture(database) { fixture in
            fixture.provider.script("alpha", [.answer("Use Go.\u{0} Hidden tail after NUL. Use Rust."), .answer("More.")])
            try await fixture.app().test(.router) { client in
                let refused = try await post(client, "/v1/surveys", ["prompt": "a\u{0}b", "panel": ["openai/alpha"]])
                #expect(refused.status == .unprocessableContent)
                #expect(Fixture.error(refused.body)?.field == "prompt")
                #expect(Fixture.error(refused.body)?.message == "prompt: must not contain the NUL character (U+0000)")
                let created = try await post(client, "/v1/surveys", ["prompt": "Which language?", "panel": ["openai/alpha"]])
                let id = try #require(Fixture.object(created.body)?["id"] as? String)
                await fixture.service.waitUntilIdle()
                let detail = try #require(Fixture.object(try await get(client, "/v1/surveys/\(id)").body))
                let request = try #require(((detail["turns"] as? [[String: Any]])?.first?["requests"] as? [[String: Any]])?.first)
                #expect(request["text"] as? String == "Use Go.\u{FFFD} Hidden tail after NUL. Use Rust.")
                #expect(detail["status"] as? String == "complete")
                // A follow-up sends the whole stored answer as the assistant's turn.
                let followUp = try await post(client, "/v1/surveys/\(id)/follow-ups", ["prompt": "Why?"])
                #expect(followUp.status == .accepted)
                await fixture.service.waitUntilIdle()
                let history = fixture.provider.requests.last?.messages.map(\.content) ?? []
                #expect(history == ["Which language?", "Use Go.\u{FFFD} Hidden tail after NUL. Use Rust.", "Why?"])
            }
        }
    }

    /// The config file's `max_attempts` and `timeout` hold for the server's surveys as for `ask`.
    @Test func theConfigFilesRunSettingsApply() async throws {
        try await withSurveyFixture(.sqlite, config: ConvergeConfig(timeoutSeconds: 7, maxAttempts: 2)) { fixture in
            fixture.provider.script("down", [.status(500, message: "boom")])
            try await fixture.app().test(.router) { client in
                let created = try await post(client, "/v1/surveys", ["prompt": "Up?", "panel": ["openai/down"]])
                let id = try #require(Fixture.object(created.body)?["id"] as? String)
                await fixture.service.waitUntilIdle()
                #expect(fixture.provider.requests(model: "down").count == 2)
                let loaded = try await SurveyArchive(store: fixture.store).load(id)
                #expect(loaded.spec.timeoutSeconds == 7)
                #expect(loaded.record.status == .failed)
            }
        }
    }

    @Test func unknownSurveysAre404() async throws {
        try await withSurveyFixture(.sqlite) { fixture in
            try await fixture.app().test(.router) { client in
                for uri in ["/v1/surveys/0123456789ab", "/v1/surveys/0123456789ab/report", "/v1/surveys/0123456789ab/events",
                            "/v1/surveys/nope", "/v1/surveys/%25%25%25%25"] {
                    let response = try await get(client, uri)
                    #expect(response.status == .notFound, "\(uri)")
                    #expect(Fixture.error(response.body)?.code == "not_found")
                }
                #expect(try await post(client, "/v1/surveys/0123456789ab/follow-ups", ["prompt": "x"]).status == .notFound)
            }
        }
    }

    @Test(arguments: [
        (#"{"prompt": "Q?", "panel": ["nope/model"]}"#, 422, "panel[0]", "nope"),
        (#"{"prompt": "Q?", "panel": ["openai/a", "anthropic/claude"]}"#, 422, "panel[1]", "ANTHROPIC_API_KEY"),
        (#"{"prompt": "Q?", "panel": ["openai/a"], "rubric": "title: [unclosed"}"#, 422, "rubric", "rubric"),
        (#"{"prompt": "   ", "panel": ["openai/a"]}"#, 422, "prompt", "blank"),
        (#"{"prompt": "Q?", "panel": []}"#, 400, "panel", "1 to 50"),
        (#"{"prompt": "Q?", "panel": ["openai/a"], "samples": 0}"#, 400, "samples", "1 to 10"),
        (#"{"prompt": "Q?", "panel": [" openai/a"]}"#, 400, "panel[0]", "model spec"),
        (#"{"prompt": "Q?", "panel": [{"model": "openai/a", "id": null}]}"#, 400, "panel[0].id", "null"),
        (#"{"prompt": "Q?", "panel": ["openai/a"], "followUps": null}"#, 400, "followUps", "null"),
    ])
    func badSurveysAreRefusedBeforeAnythingIsStored(_ body: String, status: Int, field: String,
                                                    message: String) async throws {
        try await withSurveyFixture(.sqlite) { fixture in
            try await fixture.app().test(.router) { client in
                let response = try await client.execute(uri: "/v1/surveys", method: .post, headers: Fixture.jsonHeaders,
                                                        body: ByteBuffer(string: body))
                #expect(response.status.code == status)
                let error = Fixture.error(response.body)
                #expect(error?.field == field)
                #expect(error?.message.contains(message) == true, "\(error?.message ?? "")")
                #expect(!String(buffer: response.body).contains(SurveyFixture.providerKey))
            }
            #expect(try await fixture.store.surveys(limit: 10, offset: 0).isEmpty)
            #expect(fixture.provider.requests.isEmpty)
        }
    }

    @Test func tokensAreRequiredWhenConfigured() async throws {
        try await withSurveyFixture(.sqlite, tokens: [Fixture.token]) { fixture in
            try await fixture.app().test(.router) { client in
                let denied = try await post(client, "/v1/surveys", ["prompt": "Q?", "panel": ["openai/a"]])
                #expect(denied.status == .unauthorized)
                #expect(try await get(client, "/v1/surveys").status == .unauthorized)
                #expect(try await get(client, "/v1/surveys/0123456789ab/events").status == .unauthorized)
                var headers = Fixture.jsonHeaders
                headers[.authorization] = "Bearer \(Fixture.token)"
                let created = try await client.execute(uri: "/v1/surveys", method: .post, headers: headers,
                                                       body: try Fixture.json(["prompt": "Q?", "panel": ["openai/a"]]))
                #expect(created.status == .accepted)
                await fixture.service.waitUntilIdle()
                let list = try await client.execute(uri: "/v1/surveys", method: .get, headers: Fixture.bearer(Fixture.token))
                #expect(list.status == .ok)
            }
            #expect(try await fixture.store.surveys(limit: 10, offset: 0).count == 1)
        }
    }

    @Test func withoutAStoreSurveysAre503() async throws {
        try await Fixture.app().test(.router) { client in
            let response = try await get(client, "/v1/surveys")
            #expect(response.status == .serviceUnavailable)
            #expect(Fixture.error(response.body)?.code == "unavailable")
        }
    }
}
