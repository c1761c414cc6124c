import ConvergeStore
import ConvergeTestSupport
import Foundation
import Testing

/// The embedding cache (`embeddings`): vectors kept with a survey bit for bit, found from any survey by model
/// and text hash, gone with the survey.
@Suite(.serialized) struct EmbeddingStoreTests {
    /// Floats whose bits a text round trip could lose: signed zero, subnormals, the extremes.
    static let awkward: [Float] = [0.1, -0.0, Float(bitPattern: 0x0001_1170), .greatestFiniteMagnitude,
                                   -.greatestFiniteMagnitude, .leastNonzeroMagnitude, 0.123_456_789, -1]

    @Test(arguments: Backend.allCases)
    func vectorsAreKeptBitForBitFoundFromAnySurveyAndDeletedWithTheirSurvey(_ backend: Backend) async throws {
        let store = try await openStore(try backend.freshURL())
        let first = sampleSurvey(prompt: "first"), second = sampleSurvey(prompt: "second")
        try await store.createSurvey(first, turns: ["first"])
        try await store.createSurvey(second, turns: ["second"])
        #expect(try await store.cachedEmbeddings(model: "m1", hashes: ["h1"]).isEmpty)

        try await store.recordEmbeddings(surveyID: first.id, model: "m1", vectors: ["h1": Self.awkward, "h2": [1, 2, 3]])
        let found = try await store.cachedEmbeddings(model: "m1", hashes: ["h1", "h2", "h3", "h1"])
        #expect(found.keys.sorted() == ["h1", "h2"])
        #expect(found["h1"]?.map(\.bitPattern) == Self.awkward.map(\.bitPattern))
        #expect(try await store.cachedEmbeddings(model: "m2", hashes: ["h1"]).isEmpty, "another model's vectors are not these")
        #expect(try await store.embeddings(surveyID: second.id, model: "m1").isEmpty)
        #expect(try await store.embeddings(surveyID: first.id, model: "m1").keys.sorted() == ["h1", "h2"])

        // Kept again for the same survey: replaced, not doubled.
        try await store.recordEmbeddings(surveyID: first.id, model: "m1", vectors: ["h2": [9, 9, 9]])
        #expect(try await store.embeddings(surveyID: first.id, model: "m1")["h2"] == [9, 9, 9])
        try await store.recordEmbeddings(surveyID: first.id, model: "m1", vectors: ["h2": [1, 2, 3]])

        // A vector that is not finite (a damaged or tampered row) is not read; keeping it again repairs it.
        try await store.recordEmbeddings(surveyID: first.id, model: "m1", vectors: ["h3": [1, .nan, 2], "h4": [.infinity]])
        #expect(try await store.cachedEmbeddings(model: "m1", hashes: ["h3", "h4"]).isEmpty)
        #expect(try await store.embeddings(surveyID: first.id, model: "m1")["h3"] == nil)
        try await store.recordEmbeddings(surveyID: first.id, model: "m1", vectors: ["h3": [1, 2, 3]])
        #expect(try await store.cachedEmbeddings(model: "m1", hashes: ["h3"])["h3"] == [1, 2, 3])

        try await store.recordEmbeddings(surveyID: second.id, model: "m1", vectors: ["h1": Self.awkward])
        try await store.deleteSurvey(id: first.id)
        #expect(try await store.cachedEmbeddings(model: "m1", hashes: ["h1", "h2", "h3"]).keys.sorted() == ["h1"],
                "the second survey's copy stays; the first's own vector goes")
        try await store.deleteSurvey(id: second.id)
        #expect(try await store.cachedEmbeddings(model: "m1", hashes: ["h1"]).isEmpty)

        await #expect(throws: StoreError.notFound("nope")) {
            try await store.recordEmbeddings(surveyID: "nope", model: "m1", vectors: ["h": [1]])
        }
        await store.close()
    }

    /// More vectors than one statement's binds allow: the store writes and reads them in chunks.
    @Test(arguments: Backend.allCases)
    func aThousandVectorsGoInAndComeOut(_ backend: Backend) async throws {
        let store = try await openStore(try backend.freshURL())
        let survey = sampleSurvey()
        try await store.createSurvey(survey, turns: [survey.prompt])
        var vectors: [String: [Float]] = [:]
        for i in 0..<1_000 { vectors[String(format: "%064x", i)] = (0..<384).map { Float(i) + Float($0) / 1_000 } }
        try await store.recordEmbeddings(surveyID: survey.id, model: "all-MiniLM-L6-v2 x", vectors: vectors)
        let found = try await store.cachedEmbeddings(model: "all-MiniLM-L6-v2 x", hashes: Array(vectors.keys))
        #expect(found == vectors)
        #expect(try await store.embeddings(surveyID: survey.id, model: "all-MiniLM-L6-v2 x") == vectors)
        await store.close()
    }
}
