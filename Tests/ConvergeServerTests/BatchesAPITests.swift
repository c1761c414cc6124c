import ConvergeCore
import ConvergeProviders
import ConvergeRunner
import ConvergeStore
import ConvergeTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
@testable import ConvergeServer

/// `POST /v1/batches`, `GET /v1/batches`, `GET /v1/batches/{id}` and its report through the router, with the scripted
/// provider on loopback as the panel, on a SQLite file and a PostgreSQL database: the server asks a batch's surveys
/// one after another, resumes an interrupted batch at start, and refuses bad input naming the field before any
/// model request.
@Suite(.serialized) struct BatchesAPITests {
    func post(_ client: some TestClientProtocol, _ uri: String, _ body: Any) async throws -> TestResponse {
        try await client.execute(uri: uri, method: .post, headers: Fixture.jsonHeaders, body: try Fixture.json(body))
    }

    func get(_ client: some TestClientProtocol, _ uri: String) async throws -> TestResponse {
        try await client.execute(uri: uri, method: .get)
    }

    static var prompts: [[String: Any]] {
        [
        ["id": "cache", "prompt": "Should we cache reads?"],
        ["id": "queue", "prompt": "Should we queue writes?"],
        ["id": "shard", "prompt": "Should we shard the database?"],
        ]
    }

    /// The prompt a recorded request asks (its last user message).
    static func prompt(_ request: RecordedRequest) -> String? { request.messages.last { $0.role == "user" }?.content }

    @Test(arguments: TestDatabase.allCases)
    func aBatchIsAskedOneSurveyAfterAnotherAndReported(_ database: TestDatabase) async throws {
        try await withSurveyFixture(database) { fixture in
            for model in ["alpha", "beta"] { fixture.provider.script(model, Array(repeating: .answer(delay: 0.2), count: 3)) }
            try await fixture.app().test(.router) { client in
                let created = try await post(client, "/v1/batches", [
                    "prompts": Self.prompts, "panel": ["openai/alpha", ["model": "openai/beta", "id": "b"]],
                    "samples": 1, "blind": false,
                ])
                #expect(created.status == .accepted, "\(String(buffer: created.body))")
                let body = try #require(Fixture.object(created.body))
                let id = try #require(body["id"] as? String)
                #expect(created.headers[.location] == "/v1/batches/\(id)")
                #expect(body["status"] as? String == "running" && body["prompts"] as? Int == 3)
                #expect(body["links"] as? [String: String] == [
                    "batch": "/v1/batches/\(id)", "report": "/v1/batches/\(id)/report", "page": "/batches/\(id)",
                ])

                // While it runs: the batch is running, its later surveys are waiting.
                let running = try #require(Fixture.object(try await get(client, "/v1/batches/\(id)").body))
                #expect(running["status"] as? String == "running")
                await fixture.service.waitUntilIdle()

                // One survey after another: every request of a prompt arrives after both answers of the one before.
                let requests = fixture.provider.requests
                #expect(requests.count == 6)
                let order = requests.compactMap(Self.prompt)
                #expect(order == ["Should we cache reads?", "Should we cache reads?", "Should we queue writes?",
                                  "Should we queue writes?", "Should we shard the database?", "Should we shard the database?"])
                #expect(fixture.provider.maxConcurrentRequests == 2)

                let detail = try await get(client, "/v1/batches/\(id)")
                #expect(detail.status == .ok)
                let object = try #require(Fixture.object(detail.body))
                #expect(object["status"] as? String == "complete" && object["source"] as? String == "api")
                let progress = try #require(object["progress"] as? [String: Int])
                #expect(progress == ["surveys": 3, "running": 0, "complete": 3, "partial": 0, "failed": 0, "interrupted": 0,
                                     "deleted": 0])
                let items = try #require(object["items"] as? [[String: Any]])
                #expect(items.map { $0["id"] as? String } == ["cache", "queue", "shard"])
                #expect(items.allSatisfy { $0["status"] as? String == "complete" && $0["answered"] as? Int == 2
                        && $0["requests"] as? Int == 2 })
                let surveys = items.compactMap { $0["survey"] as? String }
                #expect(items.first?["prompt"] as? String == "Should we cache reads?")
                #expect((items.first?["links"] as? [String: String])?["report"] == "/v1/surveys/\(surveys[0])/report")

                let list = try #require(Fixture.object(try await get(client, "/v1/batches?limit=5").body))
                #expect(list["limit"] as? Int == 5 && list["offset"] as? Int == 0)
                let listed = try #require(list["batches"] as? [[String: Any]])
                #expect(listed.count == 1 && listed.first?["id"] as? String == id && listed.first?["prompts"] as? Int == 3)
                #expect(listed.first?["status"] as? String == "complete")
                for bad in ["limit=0", "limit=101", "offset=-1"] {
                    let response = try await get(client, "/v1/batches?\(bad)")
                    #expect(response.status == .badRequest, "\(bad)")
                }

                let report = try await get(client, "/v1/batches/\(id)/report")
                #expect(report.status == .ok && report.headers[.contentType]?.hasPrefix("application/json") == true)
                let json = try #require(Fixture.object(report.body))
                #expect(json["schemaVersion"] as? Int == 1 && json["batch"] as? String == id)
                #expect((json["items"] as? [[String: Any]])?.count == 3)
                #expect((json["panelists"] as? [[String: Any]])?.compactMap { $0["id"] as? String }.sorted() == ["alpha", "b"])
                let markdown = try await get(client, "/v1/batches/\(id)/report?format=md")
                #expect(markdown.headers[.contentType]?.hasPrefix("text/markdown") == true)
                #expect(String(buffer: markdown.body).contains("(/v1/surveys/\(surveys[1])/report?format=md)"))
                let csv = try await get(client, "/v1/batches/\(id)/report?format=csv")
                #expect(String(buffer: csv.body).hasPrefix("panelist,label,model,prompts,answered"))
                let html = try await get(client, "/v1/batches/\(id)/report?format=html")
                #expect(String(buffer: html.body).contains("href=\"/surveys/\(surveys[2])/report\""))

                for unknown in ["zzzzzzzzzzzz", "nope"] {
                    #expect(try await get(client, "/v1/batches/\(unknown)").status == .notFound)
                    #expect(try await get(client, "/v1/batches/\(unknown)/report").status == .notFound)
                }
            }
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func badInputNamesTheFieldAndNothingIsStoredOrAsked(_ database: TestDatabase) async throws {
        try await withSurveyFixture(database) { fixture in
            try await fixture.app().test(.router) { client in
                let panel: [Any] = ["openai/alpha"]
                let cases: [(body: [String: Any], status: HTTPResponse.Status, field: String?)] = [
                    (["prompts": [] as [Any], "panel": panel], .badRequest, "prompts"),
                    (["panel": panel], .badRequest, nil),
                    (["prompts": Self.prompts, "panel": [] as [Any]], .badRequest, "panel"),
                    (["prompts": [["id": "a b", "prompt": "Why?"]], "panel": panel], .badRequest, "prompts[0].id"),
                    (["prompts": [["id": String(repeating: "x", count: 101), "prompt": "Why?"]], "panel": panel], .badRequest,
                     "prompts[0].id"),
                    (["prompts": [["id": "a", "prompt": "Why?"], ["id": "a", "prompt": "Why not?"]], "panel": panel],
                     .unprocessableContent, "prompts[1].id"),
                    (["prompts": [["id": "a", "prompt": "Why?"], ["id": "b", "prompt": "   "]], "panel": panel],
                     .unprocessableContent, "prompts[1].prompt"),
                    (["prompts": [["id": "a", "prompt": "Why?"], ["id": "b", "prompt": "Nul\u{0} here"]], "panel": panel],
                     .unprocessableContent, "prompts[1].prompt"),
                    (["prompts": [["id": "a", "prompt": "Why?", "rubric": "title: [unclosed"]], "panel": panel],
                     .unprocessableContent, "prompts[0].rubric"),
                    (["prompts": [["id": "a", "prompt": "Why?", "rubric": NSNull()]], "panel": panel], .badRequest,
                     "prompts[0].rubric"),
                    (["prompts": Self.prompts, "panel": ["openai/alpha", "anthropic/claude"]], .unprocessableContent, "panel[1]"),
                    (["prompts": Self.prompts, "panel": ["nosuch/model"]], .unprocessableContent, "panel[0]"),
                    (["prompts": Self.prompts, "panel": panel, "samples": 0], .badRequest, "samples"),
                    (["prompts": Self.prompts, "panel": panel, "temperature": NSNull()], .badRequest, "temperature"),
                    (["prompts": Self.prompts, "panel": panel, "rubric": "not: [a rubric"], .unprocessableContent, "rubric"),
                    (["prompts": Self.prompts, "panel": panel, "judge": "nosuch/judge"], .unprocessableContent, "judge"),
                    (["prompts": Self.prompts, "panel": panel, "draftRubric": "openai/alpha"], .badRequest, nil),
                ]
                for (body, status, field) in cases {
                    let response = try await post(client, "/v1/batches", body)
                    let error = Fixture.error(response.body)
                    #expect(response.status == status, "\(body): \(String(buffer: response.body))")
                    if let field {
                        #expect(error?.field == field, "\(body): \(String(buffer: response.body))")
                        #expect(error?.message.contains(field) == true, "\(error?.message ?? "")")
                    }
                    #expect(error?.message.contains(SurveyFixture.providerKey) == false)
                }
                let text = try await client.execute(uri: "/v1/batches", method: .post, headers: [.contentType: "text/plain"],
                                                    body: ByteBuffer(string: "x"))
                #expect(text.status == .unsupportedMediaType)
            }
            #expect(fixture.provider.requests.isEmpty)
            #expect(try await fixture.store.surveys(limit: 10, offset: 0).isEmpty)
            #expect(try await fixture.store.batches(limit: 10, offset: 0).isEmpty)
        }
    }

    /// A server stopped mid-batch leaves the survey it was asking and the later ones `interrupted`; the next server
    /// on the same database resumes them one after another, sending only what has no stored answer.
    @Test(arguments: TestDatabase.allCases)
    func anInterruptedBatchIsResumedInOrderAtTheNextStart(_ database: TestDatabase) async throws {
        try await withSurveyFixture(database) { fixture in
            fixture.provider.script("alpha", [.answer(delay: 0.1), .answer(delay: 5), .answer(delay: 5)])
            let id = try await fixture.app().test(.router) { client -> String in
                let created = try await post(client, "/v1/batches", ["prompts": Self.prompts, "panel": ["openai/alpha"]])
                #expect(created.status == .accepted)
                return try #require(Fixture.object(created.body)?["id"] as? String)
            }
            // The second prompt's request is in flight: stop the server.
            let deadline = ContinuousClock.now + .seconds(20)
            while fixture.provider.requests.count < 2 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
            await fixture.service.stop()
            let batch = try await fixture.store.batch(id: id)
            var statuses: [SurveyStatus] = []
            for item in batch.items { statuses.append(try await fixture.store.survey(id: item.surveyID).status) }
            #expect(statuses == [.complete, .interrupted, .interrupted])

            let directory = ProviderDirectory(environment: [
                "OPENAI_API_KEY": SurveyFixture.providerKey, "OPENAI_BASE_URL": fixture.provider.baseURL + "/v1",
            ])
            fixture.provider.script("alpha", [.answer(delay: 0.2), .answer(delay: 0.2)])
            let next = SurveyService(store: fixture.store, directory: directory,
                                     logger: Logger(label: "converge.test") { _ in LogCapture().handler })
            await next.resumeLeftOver()
            await next.waitUntilIdle()
            for item in batch.items { #expect(try await fixture.store.survey(id: item.surveyID).status == .complete) }
            let order = fixture.provider.requests.compactMap(Self.prompt)
            // The interrupted request is sent again; the first survey's answer is not.
            #expect(order == ["Should we cache reads?", "Should we queue writes?", "Should we queue writes?",
                              "Should we shard the database?"])
        }
    }

    /// `serve --queue` needs the work queue of PostgreSQL: on SQLite it exits 2 before listening, creating nothing.
    @Test func serveQueueRefusesSQLite() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("converge-queue-" + UUID().uuidString.prefix(8))
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let file = folder.appendingPathComponent("never.sqlite")
        let result = try ServeProcess.runCLI(["serve", "--queue", "--port", "0", "--db", "sqlite:" + file.path])
        #expect(result.status == 2 && result.stderr.contains("needs PostgreSQL"), "\(result.stderr)")
        #expect(!result.stderr.contains("serving on"))
        #expect(!FileManager.default.fileExists(atPath: file.path))
    }
}
