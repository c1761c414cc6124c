import ConvergeProviders
import ConvergeStore
import Foundation
import Synchronization

/// A ``SurveyJournal`` over a ``SurveyStore``: every request is written as pending before it is sent and
/// every outcome as it arrives; answers already stored for the survey are reused (resume), and, unless
/// `useCache` is off, so is the stored answer to an identical request from any survey (the response cache,
/// keyed by ``RequestFingerprint``). Failures are stored but never reused.
public final class StoreJournal: SurveyJournal {
    public let store: any SurveyStore
    public let surveyID: String
    public let useCache: Bool
    private let answers: [StoredRequestKey: StoredResponse]
    private let state = Mutex(State())

    struct State {
        var firstError: StoreError?
        var reusedFromSurvey = 0
        var reusedFromCache = 0
    }

    /// - Parameter existing: the survey's stored rows (its answered ones are reused as they are).
    public init(store: any SurveyStore, surveyID: String, existing: [StoredRequest] = [], useCache: Bool = true) {
        self.store = store
        self.surveyID = surveyID
        self.useCache = useCache
        var answers: [StoredRequestKey: StoredResponse] = [:]
        for row in existing where row.state == .answered { answers[row.key] = row.response }
        self.answers = answers
    }

    /// The first write that failed, if any: the survey went on, but what it names is not stored.
    public var firstError: StoreError? { state.withLock { $0.firstError } }
    /// Answers taken from this survey's own earlier run.
    public var reusedFromSurvey: Int { state.withLock { $0.reusedFromSurvey } }
    /// Answers taken from the response cache.
    public var reusedFromCache: Int { state.withLock { $0.reusedFromCache } }

    public func reuse(_ key: RequestKey, member: SurveyMember, request: ChatRequest) async -> ChatResponse? {
        let storedKey = StoredRequestKey(key)
        if let answer = answers[storedKey] {
            state.withLock { $0.reusedFromSurvey += 1 }
            return ChatResponse(answer)
        }
        guard useCache else { return nil }
        let fingerprint = RequestFingerprint(identity: member.provider.identity, request: request, sample: key.sample)
        let cached: StoredResponse?
        do {
            cached = try await store.cachedResponse(cacheKey: fingerprint.hex)
        } catch {
            record(error)
            return nil
        }
        guard let cached else { return nil }
        do {
            try await store.recordAnswer(surveyID: surveyID, key: storedKey, cacheKey: fingerprint.hex,
                                         request: fingerprint.canonical, response: cached, attempts: 0, fromCache: true)
        } catch {
            record(error)
        }
        state.withLock { $0.reusedFromCache += 1 }
        return ChatResponse(cached)
    }

    public func willSend(_ key: RequestKey, member: SurveyMember, request: ChatRequest) async {
        let fingerprint = RequestFingerprint(identity: member.provider.identity, request: request, sample: key.sample)
        do {
            try await Self.persisting {
                try await store.recordPending(surveyID: surveyID, key: StoredRequestKey(key), cacheKey: fingerprint.hex,
                                              request: fingerprint.canonical)
            }
        } catch {
            record(error)
        }
    }

    public func answered(_ key: RequestKey, member: SurveyMember, request: ChatRequest, response: ChatResponse,
                         attempts: Int) async {
        let fingerprint = RequestFingerprint(identity: member.provider.identity, request: request, sample: key.sample)
        do {
            // An answer is paid for: a database that is briefly away (restarting, failing over) is waited for.
            try await Self.persisting {
                try await store.recordAnswer(surveyID: surveyID, key: StoredRequestKey(key), cacheKey: fingerprint.hex,
                                             request: fingerprint.canonical, response: StoredResponse(response),
                                             attempts: attempts, fromCache: false)
            }
        } catch {
            record(error)
        }
    }

    public func failed(_ key: RequestKey, member: SurveyMember, request: ChatRequest, failure: SampleFailure) async {
        let fingerprint = RequestFingerprint(identity: member.provider.identity, request: request, sample: key.sample)
        do {
            try await Self.persisting {
                try await store.recordFailure(surveyID: surveyID, key: StoredRequestKey(key), cacheKey: fingerprint.hex,
                                              request: fingerprint.canonical, error: failure.cause,
                                              attempts: failure.attempts)
            }
        } catch {
            record(error)
        }
    }

    /// Delays between attempts of a write the database could not take because it was unreachable
    /// (`StoreError.unavailable`) or its disk full (`StoreError.full`): about 30 s in all, so that a database
    /// restart or failover, or a disk that gets space back, loses no answer.
    static let unavailableRetryDelays: [Duration] = [.milliseconds(500), .seconds(1), .seconds(2), .seconds(4), .seconds(8),
                                                     .seconds(15)]

    /// Runs `write`, again after each of ``unavailableRetryDelays`` while the store is unreachable or its disk
    /// full; any other error, or the last one, is thrown. Cancellation ends the waiting (the write is tried no more).
    static func persisting<T>(_ write: () async throws -> T) async throws -> T {
        var delays = unavailableRetryDelays[...]
        while true {
            do {
                return try await write()
            } catch let error as StoreError {
                guard error.isPassing, let delay = delays.popFirst() else { throw error }
                do { try await Task.sleep(for: delay) } catch { throw error }
            }
        }
    }

    private func record(_ error: any Error) {
        let storeError = error as? StoreError ?? .database(location: store.location, reason: "\(error)")
        state.withLock { if $0.firstError == nil { $0.firstError = storeError } }
    }
}

extension StoreError {
    /// Whether the store may take the write again soon: unreachable (restarting, failing over) or its disk full.
    var isPassing: Bool {
        switch self {
        case .unavailable, .full: return true
        default: return false
        }
    }
}

extension StoredRequestKey {
    public init(_ key: RequestKey) { self.init(turn: key.turn, panelistID: key.panelistID, sample: key.sample) }
}

extension StoredResponse {
    public init(_ response: ChatResponse) {
        self.init(text: response.text, latencyMs: response.latencyMs, inputTokens: response.inputTokens,
                  outputTokens: response.outputTokens, finishReason: response.finishReason,
                  requestID: response.requestID, model: response.model)
    }
}

extension ChatResponse {
    public init(_ stored: StoredResponse) {
        self.init(text: stored.text, latencyMs: stored.latencyMs, inputTokens: stored.inputTokens,
                  outputTokens: stored.outputTokens, finishReason: stored.finishReason, requestID: stored.requestID,
                  model: stored.model)
    }
}
