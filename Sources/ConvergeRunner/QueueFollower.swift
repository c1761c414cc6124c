import ConvergeStore
import Foundation

/// How far queued surveys have got: their jobs (threads) by state.
public struct QueueProgress: Sendable, Hashable {
    public var total = 0
    public var queued = 0
    /// Leased by a live worker.
    public var leased = 0
    public var done = 0
    /// Surveys whose every job is done.
    public var surveysDone = 0

    public init() {}

    public var finished: Bool { done == total }
}

/// What `ask --queue` and `batch --queue` do instead of asking: queue the threads of planned surveys for the
/// workers (``QueueWorker``), then follow their progress in the database until every thread is done.
public struct QueueFollower: Sendable {
    public let queue: any WorkQueue
    /// How often progress is read.
    public var poll: Duration
    /// How long the database may stay unreachable while following before it is given up (a restart, a failover).
    public var patience: Duration

    public init(queue: any WorkQueue, poll: Duration = .milliseconds(250), patience: Duration = .seconds(120)) {
        self.queue = queue
        self.poll = poll
        self.patience = patience
    }

    /// The jobs of a planned survey: one per panelist and sample, each counted against its provider's limit
    /// (the lower of the plan's per-provider concurrency and the config file's `max_concurrency`).
    public static func jobs(surveyID: String, plan: SurveyPlan, useCache: Bool) -> [QueueJob] {
        var caps: [String: Int] = [:]
        for member in plan.members {
            let cap = min(plan.options.perProviderConcurrency, member.providerLimit ?? Int.max)
            caps[member.provider.name] = min(caps[member.provider.name] ?? Int.max, cap)
        }
        return plan.members.flatMap { member in
            (0..<plan.options.samples).map { sample in
                QueueJob(surveyID: surveyID, panelistID: member.panelist.id, sample: sample, limitKey: member.provider.name,
                         limitMax: caps[member.provider.name] ?? 1, useCache: useCache)
            }
        }
    }

    /// Reads progress every ``poll`` until every job of `surveyIDs` is done, calling `progress` when it changes.
    /// - Throws: `CancellationError` when the calling task is cancelled (the jobs stay queued for the workers);
    ///   the store's error when it stays unreachable longer than ``patience``.
    public func follow(surveyIDs: [String], progress: (QueueProgress) -> Void) async throws {
        var last: QueueProgress?
        var unreachableSince: ContinuousClock.Instant?
        while true {
            try Task.checkCancellation()
            do {
                let jobs = try await queue.jobs(surveyIDs: surveyIDs)
                unreachableSince = nil
                var now = QueueProgress()
                var open = Set<String>()
                for job in jobs {
                    now.total += 1
                    switch job.state {
                    case .done: now.done += 1
                    case .leased where job.live: now.leased += 1
                    case .leased, .queued: now.queued += 1
                    }
                    if job.state != .done { open.insert(job.job.surveyID) }
                }
                now.surveysDone = Set(jobs.map(\.job.surveyID)).subtracting(open).count
                if now != last { progress(now) }
                last = now
                if now.finished { return }
            } catch let error as StoreError {
                guard case .unavailable = error else { throw error }
                let since = unreachableSince ?? .now
                unreachableSince = since
                if ContinuousClock.now - since > patience { throw error }
            }
            try await Task.sleep(for: poll)
        }
    }
}
