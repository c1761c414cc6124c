import Foundation

/// One job of the work queue: a conversation thread (one panelist's sample of a survey, all its turns in order),
/// asked by whichever worker leases it.
public struct QueueJob: Sendable, Hashable {
    public var surveyID: String
    public var panelistID: String
    /// 0-based.
    public var sample: Int
    /// The provider whose concurrency limit the job counts against (every worker's leased jobs with this key).
    public var limitKey: String
    /// The most jobs with ``limitKey`` leased at once, over all workers (at least 1; the lowest of the queued
    /// jobs' limits applies).
    public var limitMax: Int
    /// Whether an identical request's stored answer may be used instead of asking (`--no-cache` turns it off).
    public var useCache: Bool

    public init(surveyID: String, panelistID: String, sample: Int, limitKey: String, limitMax: Int, useCache: Bool = true) {
        self.surveyID = surveyID
        self.panelistID = panelistID
        self.sample = sample
        self.limitKey = limitKey
        self.limitMax = max(1, limitMax)
        self.useCache = useCache
    }

    /// `SURVEY/SAMPLE/PANELIST`: unique in the queue.
    public var id: String { "\(surveyID)/\(sample)/\(panelistID)" }
}

/// A job leased by a worker. `token` (`WORKER#CLAIMS#JOB`) is new at every claim and names one job: the writes of a
/// leased job name it, so a worker
/// whose lease was lost (it expired and another worker claimed the job) can write nothing.
public struct LeasedJob: Sendable, Hashable {
    public var job: QueueJob
    public var token: String
    /// How many times the job has been claimed, this claim included (more than 1: a worker lost it before).
    public var claims: Int

    public init(job: QueueJob, token: String, claims: Int) {
        self.job = job
        self.token = token
        self.claims = claims
    }
}

/// Where a job stands.
public enum QueueJobState: String, Sendable, Hashable {
    /// Waiting for a worker (or released by one that stopped).
    case queued
    /// A worker holds it until its lease expires (then it is claimable again).
    case leased
    /// Every turn of the thread has an answer or a failure stored.
    case done
}

/// A job as the queue holds it, for progress and tests.
public struct QueueJobStatus: Sendable, Hashable {
    public var job: QueueJob
    public var state: QueueJobState
    /// The worker that holds it, or the one that finished it; `nil` when queued.
    public var owner: String?
    public var claims: Int
    /// Whether the job is leased and its lease has not expired (by the database's clock).
    public var live: Bool
}

/// The queue that `converge worker` processes share, in PostgreSQL: jobs are claimed with row locks
/// (`FOR UPDATE SKIP LOCKED`) under a per-provider lock that counts the jobs leased by every worker, so a
/// provider's limit holds across processes and machines. Leases expire unless extended (heartbeats); every write
/// of a leased job is guarded by its token. Times are the database's clock.
///
/// SQLite has no queue: ``workQueue(_:)`` refuses it (its in-process runner is one machine's anyway).
public protocol WorkQueue: Sendable {
    /// Queues `jobs`; a job already queued keeps its place, one that is done is queued again, one that is leased
    /// is left to its worker.
    /// - Throws: ``StoreError``.
    func enqueue(_ jobs: [QueueJob]) async throws

    /// Leases up to `max` claimable jobs (queued, or leased with an expired lease) for `worker`, oldest first,
    /// without exceeding any provider's limit counted over every worker's live leases.
    /// - Parameters:
    ///   - lease: how long the lease lasts unless ``extend(_:lease:)`` renews it.
    ///   - accepting: whether the worker takes jobs of a ``QueueJob/limitKey`` (a provider): one it has no key for
    ///     is not taken, and stays queued for a worker that has it.
    func claim(worker: String, max: Int, lease: Duration, accepting: @Sendable (String) -> Bool) async throws -> [LeasedJob]

    /// Renews the leases with these tokens to `lease` from now.
    /// - Returns: the tokens still held (a token missing was lost: another worker claimed the job).
    func extend(_ tokens: [String], lease: Duration) async throws -> Set<String>

    /// Stores an answer of a leased job's thread, once: only while `lease` is held, and never over a stored answer.
    /// - Returns: whether it was stored.
    func recordLeasedAnswer(_ lease: LeasedJob, key: StoredRequestKey, cacheKey: String, request: Data,
                            response: StoredResponse, attempts: Int, fromCache: Bool) async throws -> Bool

    /// Stores a failure of a leased job's thread, only while `lease` is held (never over an answer).
    /// - Returns: whether it was stored.
    func recordLeasedFailure(_ lease: LeasedJob, key: StoredRequestKey, cacheKey: String, request: Data,
                             error: String, attempts: Int) async throws -> Bool

    /// Marks a leased job done, if `lease` is still held.
    /// - Returns: whether it was.
    func complete(_ lease: LeasedJob) async throws -> Bool

    /// Gives leases back (a worker that stops): their jobs are queued again at once.
    func release(_ tokens: [String]) async throws

    /// The jobs of these surveys.
    func jobs(surveyIDs: [String]) async throws -> [QueueJobStatus]
}

extension WorkQueue {
    /// Leases jobs of every provider (``claim(worker:max:lease:accepting:)``).
    public func claim(worker: String, max: Int, lease: Duration) async throws -> [LeasedJob] {
        try await claim(worker: worker, max: max, lease: lease, accepting: { _ in true })
    }
}

/// The work queue of `store`.
/// - Throws: ``StoreError/queueNeedsPostgres(location:)`` for SQLite.
public func workQueue(_ store: any SurveyStore) throws -> any WorkQueue {
    guard let store = store as? SQLSurveyStore, store.isPostgres else {
        throw StoreError.queueNeedsPostgres(location: store.location)
    }
    return store
}
