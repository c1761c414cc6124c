import ConvergeCore
import ConvergeProviders
import ConvergeRunner
import ConvergeStore
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import ConvergeServer

/// The batch pages through the router, on SQLite and PostgreSQL: a batch of two surveys, one answered and
/// analysed, one still running.
@Suite(.serialized) struct BatchPagesTests {
    @Test(arguments: TestDatabase.allCases)
    func theBatchPageShowsEachSurveyAndTheReportLinksToThem(_ database: TestDatabase) async throws {
        try await withSurveyFixture(database) { fixture in
            let archive = SurveyArchive(store: fixture.store)
            let panel = [Panelist(id: "a", model: "openai/a"), Panelist(id: "b", model: "openai/b")]
            let spec = SurveySpec(panel: panel.map { SurveySpec.Member(id: $0.id, label: $0.label, model: $0.model ?? "") })
            let answered = try await archive.create(Survey(prompt: "Why cache?"), spec: spec)
            let running = try await archive.create(Survey(prompt: "Why queue?"), spec: spec)
            let answers = ["Cache reads to cut latency.", "Caching cuts latency of reads."]
            let result = SurveyResult(survey: Survey(prompt: "Why cache?"), panelists: panel, samples: 1, turns: [
                TurnResult(index: 0, prompt: "Why cache?", panelists: zip(panel, answers).map { panelist, text in
                    PanelistTurnResult(panelist: panelist, samples: [.answered(ChatResponse(StoredResponse(text: text, latencyMs: 5)),
                                                                               attempts: 1)])
                }),
            ], cancelled: false)
            _ = try await archive.finish(answered, result: result, rubric: nil)
            let id = StoredSurvey.newID()
            try await fixture.store.createBatch(StoredBatch(id: id, source: "set.jsonl", spec: Data("{}".utf8), items: [
                StoredBatch.Item(index: 0, itemID: "cache", surveyID: answered),
                StoredBatch.Item(index: 1, itemID: "queue", surveyID: running),
            ]))
            try await fixture.app().test(.router) { client in
                try await client.execute(uri: "/batches/\(id)", method: .get) { response in
                    #expect(response.status == .ok)
                    let html = String(buffer: response.body)
                    #expect(html.contains("2 prompts: 1 complete") && html.contains("set.jsonl"), "\(html)")
                    #expect(html.contains("href=\"/surveys/\(answered)\"") && html.contains("href=\"/surveys/\(running)\""))
                    #expect(html.contains("data-status=\"complete\">complete") && html.contains("data-status=\"running\">running"))
                    #expect(response.headers.contains { $0.name.rawName.lowercased() == "refresh" && $0.value == "5" })  // running
                }
                try await client.execute(uri: "/batches/\(id)/report", method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(response.headers[.contentType]?.hasPrefix("text/html") == true)
                    let html = String(buffer: response.body)
                    #expect(html.contains("href=\"/surveys/\(answered)/report\""), "\(html.prefix(2000))")
                }
                for unknown in ["zzzzzzzzzzzz", "no-such-batch"] {
                    try await client.execute(uri: "/batches/\(unknown)", method: .get) { response in
                        #expect(response.status == .notFound)
                        #expect(String(buffer: response.body).contains("no batch with this id"))
                    }
                }
            }
        }
    }

    /// `/batches` lists the stored batches with their progress and links, is linked from `/surveys`, and its form
    /// starts a batch from an uploaded JSONL or CSV file: a bad line shows the form again with the file's line, and
    /// nothing is stored or asked.
    @Test(arguments: TestDatabase.allCases)
    func theBatchesPageListsBatchesAndItsFormStartsOne(_ database: TestDatabase) async throws {
        try await withSurveyFixture(database) { fixture in
            try await fixture.app().test(.router) { client in
                let surveys = String(buffer: try await client.execute(uri: "/surveys", method: .get).body)
                #expect(surveys.contains("<a href=\"/batches\">Batches</a>"))
                let empty = String(buffer: try await client.execute(uri: "/batches", method: .get).body)
                #expect(empty.contains("No batches yet.") && empty.contains("POST /v1/batches")
                        && empty.contains("enctype=\"multipart/form-data\""), "\(empty)")

                // A line that is not JSON: the form comes back with its line, filled in; nothing is stored.
                var bad = PagesRouterTests.Multipart()
                bad.field("panel", "openai/alpha")
                bad.file("prompts", filename: "set.jsonl", Array("{\"id\": \"a\", \"prompt\": \"Why?\"}\nnot json\n".utf8))
                let refused = try await client.execute(uri: "/batches", method: .post, headers: bad.headers, body: bad.buffer)
                #expect(refused.status == .unprocessableContent)
                let refusedText = String(buffer: refused.body)
                #expect(refusedText.contains("set.jsonl:2"), "\(refusedText)")
                #expect(refusedText.contains(">openai/alpha</textarea>"))
                // A panel line with an unknown provider: named by its line.
                var unknown = PagesRouterTests.Multipart()
                unknown.field("panel", "openai/alpha\nnosuch/model")
                unknown.file("prompts", filename: "set.csv", Array("id,prompt\na,Why?\n".utf8))
                let unknownText = String(buffer: try await client.execute(uri: "/batches", method: .post, headers: unknown.headers,
                                                                          body: unknown.buffer).body)
                #expect(unknownText.contains("Panel, line 2"), "\(unknownText)")
                #expect(fixture.provider.requests.isEmpty)
                #expect(try await fixture.store.batches(limit: 5, offset: 0).isEmpty)
                #expect(try await fixture.store.surveys(limit: 5, offset: 0).isEmpty)

                var form = PagesRouterTests.Multipart()
                form.field("panel", "openai/alpha\nopenai/beta")
                form.field("samples", "1")
                form.file("prompts", filename: "set.csv", Array("id,prompt\ncache,Should we cache?\nqueue,\"Should we queue, then?\"\n".utf8))
                let started = try await client.execute(uri: "/batches", method: .post, headers: form.headers, body: form.buffer)
                #expect(started.status == .seeOther)
                let location = try #require(started.headers[.location])
                let id = String(location.dropFirst("/batches/".count))
                await fixture.service.waitUntilIdle()
                #expect(fixture.provider.requests.count == 4)
                let batch = try await fixture.store.batch(id: id)
                #expect(batch.items.map(\.itemID) == ["cache", "queue"] && batch.source == "api")
                #expect(try await fixture.store.survey(id: batch.items[1].surveyID).prompt == "Should we queue, then?")

                let list = String(buffer: try await client.execute(uri: "/batches", method: .get).body)
                #expect(list.contains("href=\"/batches/\(id)\"") && list.contains("2/2 done"), "\(list)")
                #expect(list.contains("data-status=\"complete\">complete"))
                let page = String(buffer: try await client.execute(uri: location, method: .get).body)
                #expect(page.contains("2 prompts: 2 complete"))
            }
        }
    }
}
