import ConvergeStore
import ConvergeTestSupport
import Foundation
import Testing

/// Batches (schema version 4) on a real SQLite file and a real PostgreSQL cluster.
@Suite(.serialized) struct BatchStoreTests {
    @Test(arguments: Backend.allCases)
    func keepsBatchesWithTheirItemsInOrder(_ backend: Backend) async throws {
        let store = try await openStore(try backend.freshURL())
        let surveys = (0..<3).map { sampleSurvey(prompt: "prompt \($0)") }
        for survey in surveys { try await store.createSurvey(survey, turns: [survey.prompt]) }
        let older = StoredBatch(id: StoredSurvey.newID(), createdAt: Date(timeIntervalSinceNow: -60), source: "old.jsonl",
                                spec: Data("{}".utf8), items: [StoredBatch.Item(index: 0, itemID: "x", surveyID: surveys[0].id)])
        let batch = StoredBatch(id: StoredSurvey.newID(), source: "prompts.csv", spec: Data(#"{"panel":["a"]}"#.utf8),
                                items: surveys.enumerated().reversed().map {
                                    StoredBatch.Item(index: $0.offset, itemID: "item-\($0.offset)", surveyID: $0.element.id)
                                })
        try await store.createBatch(older)
        try await store.createBatch(batch)

        let read = try await store.batch(id: batch.id)
        #expect(read.items.map(\.itemID) == ["item-0", "item-1", "item-2"])
        #expect(read.items.map(\.surveyID) == surveys.map(\.id))
        #expect(read.source == "prompts.csv" && read.spec == batch.spec)
        #expect(try await store.batch(id: String(batch.id.prefix(6))).id == batch.id)
        #expect(try await store.batches(limit: 10, offset: 0).map(\.id) == [batch.id, older.id])
        #expect(try await store.batches(limit: 1, offset: 1).map(\.id) == [older.id])

        try await store.deleteBatch(id: batch.id)
        await #expect(throws: StoreError.batchNotFound(batch.id)) { try await store.batch(id: batch.id) }
        await #expect(throws: StoreError.batchNotFound("nope")) { try await store.deleteBatch(id: "nope") }
        // The surveys are the caller's to delete.
        #expect(try await store.survey(id: surveys[1].id).prompt == "prompt 1")
        #expect(try await store.batches(limit: 10, offset: 0).map(\.id) == [older.id])
        await store.close()
    }

    @Test(arguments: Backend.allCases)
    func aVersion3DatabaseGainsBatches(_ backend: Backend) async throws {
        let url = try backend.freshURL()
        let old = try await openStore(url, schemaVersion: 3)
        let survey = sampleSurvey()
        try await old.createSurvey(survey, turns: [survey.prompt])
        await old.close()
        let upgraded = try await openStore(url)
        #expect(try await upgraded.schemaVersion() == 7)
        try await upgraded.createBatch(StoredBatch(id: "b1", source: "f", spec: Data("{}".utf8),
                                                   items: [StoredBatch.Item(index: 0, itemID: "p", surveyID: survey.id)]))
        #expect(try await upgraded.batch(id: "b1").items.first?.surveyID == survey.id)
        await upgraded.close()
    }
}
