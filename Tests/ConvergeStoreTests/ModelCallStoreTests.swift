import ConvergeStore
import ConvergeTestSupport
import Foundation
import Testing

/// The judge's response cache (`model_calls`): kept with a survey, found from any survey, gone with the survey.
@Suite(.serialized) struct ModelCallStoreTests {
    @Test(arguments: Backend.allCases)
    func aModelCallIsFoundByItsKeyFromAnySurveyAndDeletedWithItsSurvey(_ backend: Backend) async throws {
        let store = try await openStore(try backend.freshURL())
        let first = sampleSurvey(prompt: "first"), second = sampleSurvey(prompt: "second")
        try await store.createSurvey(first, turns: ["first"])
        try await store.createSurvey(second, turns: ["second"])
        #expect(try await store.cachedModelCall(cacheKey: "judge-key") == nil)

        let reply = StoredResponse(text: #"{"consensus": []} — ünïcode"#, latencyMs: 930, inputTokens: 1200,
                                   outputTokens: 80, finishReason: "stop", requestID: "req-j", model: "judge-2026")
        try await store.recordModelCall(surveyID: first.id, cacheKey: "judge-key", request: sampleRequest, response: reply)
        #expect(try await store.cachedModelCall(cacheKey: "judge-key") == reply)
        #expect(try await store.cachedModelCall(cacheKey: "other-key") == nil)
        // The judge's call is not one of the panel's requests.
        #expect(try await store.requests(surveyID: first.id).isEmpty)

        // Kept again under the same key: replaced, not doubled.
        var newer = reply
        newer.text = #"{"consensus": [], "synthesis": []}"#
        try await store.recordModelCall(surveyID: first.id, cacheKey: "judge-key", request: sampleRequest, response: newer)
        #expect(try await store.cachedModelCall(cacheKey: "judge-key")?.text == newer.text)
        try await store.recordModelCall(surveyID: second.id, cacheKey: "judge-key", request: sampleRequest, response: newer)

        try await store.deleteSurvey(id: first.id)
        #expect(try await store.cachedModelCall(cacheKey: "judge-key")?.text == newer.text, "the second survey's copy stays")
        try await store.deleteSurvey(id: second.id)
        #expect(try await store.cachedModelCall(cacheKey: "judge-key") == nil, "a deleted survey's judge answers go with it")

        await #expect(throws: StoreError.notFound("nope")) {
            try await store.recordModelCall(surveyID: "nope", cacheKey: "k", request: sampleRequest, response: reply)
        }
        await store.close()
    }
}
