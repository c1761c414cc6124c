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
}
