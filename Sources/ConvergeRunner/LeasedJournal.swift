import ConvergeProviders
import ConvergeStore
import Foundation

/// The ``SurveyJournal`` of a thread a worker has leased from the queue: answers and failures are written
/// only while the lease is held (``WorkQueue/recordLeasedAnswer(_:key:cacheKey:request:response:attempts:fromCache:)``),
/// so a worker that lost its lease writes nothing; answers already stored for the thread are reused, and so is
/// the response cache when the job allows it. A request cancelled (the worker stops, or lost its lease) is not a
/// failure: nothing is written, and whoever takes the job next asks it.
final class LeasedJournal: SurveyJournal {
    let store: any SurveyStore
    let queue: any WorkQueue
    let lease: LeasedJob
    private let answers: [StoredRequestKey: StoredResponse]

    init(store: any SurveyStore, queue: any WorkQueue, lease: LeasedJob, existing: [StoredRequest]) {
        self.store = store
        self.queue = queue
        self.lease = lease
        var answers: [StoredRequestKey: StoredResponse] = [:]
        for row in existing where row.state == .answered { answers[row.key] = row.response }
        self.answers = answers
    }

    func reuse(_ key: RequestKey, member: SurveyMember, request: ChatRequest) async -> ChatResponse? {
        if let answer = answers[StoredRequestKey(key)] { return ChatResponse(answer) }
        guard lease.job.useCache else { return nil }
        let fingerprint = RequestFingerprint(identity: member.provider.identity, request: request, sample: key.sample)
        guard let cached = try? await store.cachedResponse(cacheKey: fingerprint.hex) else { return nil }
        _ = try? await queue.recordLeasedAnswer(lease, key: StoredRequestKey(key), cacheKey: fingerprint.hex,
                                                request: fingerprint.canonical, response: cached, attempts: 0,
                                                fromCache: true)
        return ChatResponse(cached)
    }

    func willSend(_ key: RequestKey, member: SurveyMember, request: ChatRequest) async {
        let fingerprint = RequestFingerprint(identity: member.provider.identity, request: request, sample: key.sample)
        // A pending row never replaces an answer; it says the request may have been sent.
        try? await StoreJournal.persisting {
            try await store.recordPending(surveyID: lease.job.surveyID, key: StoredRequestKey(key), cacheKey: fingerprint.hex,
                                          request: fingerprint.canonical)
        }
    }

    func answered(_ key: RequestKey, member: SurveyMember, request: ChatRequest, response: ChatResponse,
                  attempts: Int) async {
        let fingerprint = RequestFingerprint(identity: member.provider.identity, request: request, sample: key.sample)
        // An answer is paid for: a database that is briefly away is waited for (about 30 s).
        try? await StoreJournal.persisting {
            _ = try await queue.recordLeasedAnswer(lease, key: StoredRequestKey(key), cacheKey: fingerprint.hex,
                                                   request: fingerprint.canonical, response: StoredResponse(response),
                                                   attempts: attempts, fromCache: false)
        }
    }

    func failed(_ key: RequestKey, member: SurveyMember, request: ChatRequest, failure: SampleFailure) async {
        if failure.cause == "cancelled" { return }
        let fingerprint = RequestFingerprint(identity: member.provider.identity, request: request, sample: key.sample)
        try? await StoreJournal.persisting {
            _ = try await queue.recordLeasedFailure(lease, key: StoredRequestKey(key), cacheKey: fingerprint.hex,
                                                    request: fingerprint.canonical, error: failure.cause,
                                                    attempts: failure.attempts)
        }
    }
}
