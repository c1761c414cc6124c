import ConvergeJudge
import ConvergeProviders
import ConvergeStore

/// The judge's response cache in the survey store: answers are kept with the survey (`model_calls`, deleted
/// with it) under their ``RequestFingerprint`` (sample 0), and an identical request from any survey is
/// answered from them unless `useCache` is off (`--no-cache`), in which case answers are still kept.
/// A store that fails to read or write only costs the cache: the call goes to the network.
public struct StoreModelCallCache: ModelCallCache {
    public let store: any SurveyStore
    public let surveyID: String
    public let useCache: Bool

    public init(store: any SurveyStore, surveyID: String, useCache: Bool = true) {
        self.store = store
        self.surveyID = surveyID
        self.useCache = useCache
    }

    public func answer(to request: ChatRequest, identity: String) async -> ChatResponse? {
        guard useCache else { return nil }
        let fingerprint = RequestFingerprint(identity: identity, request: request, sample: 0)
        guard let cached = try? await store.cachedModelCall(cacheKey: fingerprint.hex) else { return nil }
        // Kept with this survey too: deleting the survey that first asked must not take this one's answer.
        try? await store.recordModelCall(surveyID: surveyID, cacheKey: fingerprint.hex, request: fingerprint.canonical,
                                         response: cached)
        return ChatResponse(cached)
    }

    public func keep(_ response: ChatResponse, for request: ChatRequest, identity: String) async {
        let fingerprint = RequestFingerprint(identity: identity, request: request, sample: 0)
        try? await store.recordModelCall(surveyID: surveyID, cacheKey: fingerprint.hex, request: fingerprint.canonical,
                                         response: StoredResponse(response))
    }
}
