import ConvergeProviders
import ConvergeStore
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// How a worker takes and holds jobs.
public struct WorkerOptions: Sendable {
    /// Most threads this worker asks at once (each thread has at most one request in flight), at least 1.
    public var slots: Int
    /// How long a lease lasts without a heartbeat: a worker that dies loses its jobs after this.
    public var lease: Duration
    /// How often the worker renews its leases (a third of the lease by default).
    public var heartbeat: Duration
    /// How long an idle worker waits before it looks for jobs again (jittered by up to half).
    public var poll: Duration
    /// The retry policy's attempts per request (the config file's `max_attempts`), when set.
    public var maxAttempts: Int?

    public init(slots: Int = 16, lease: Duration = .seconds(30), heartbeat: Duration? = nil,
                poll: Duration = .milliseconds(200), maxAttempts: Int? = nil) {
        self.slots = max(1, slots)
        self.lease = lease
        self.heartbeat = heartbeat ?? lease / 3
        self.poll = poll
        self.maxAttempts = maxAttempts
    }
}

/// A worker: takes queued threads from the PostgreSQL work queue (``WorkQueue``) and asks them, as many at once as
/// it has slots and the providers' limits (counted over every worker) allow; renews its leases while it works;
/// writes each answer only while it holds the lease. On graceful shutdown (SIGTERM, SIGINT through a
/// `ServiceGroup`) it stops taking jobs, cancels the requests it has in flight and gives their leases back, so
/// that another worker takes them at once; a worker that is killed loses its leases when they expire.
///
/// Provider keys come from this process's environment (`directory`), never from the database.
public final class QueueWorker: Service, Sendable {
    /// `HOST:PID:RANDOM`: the owner of its leases.
    public let id: String
    let store: any SurveyStore
    let queue: any WorkQueue
    let directory: ProviderDirectory
    let options: WorkerOptions
    let logger: Logger
    private let state = Mutex(State())
    /// Wakes the claim loop when a job ends (a slot is free) or the worker stops.
    private let wakeup = Wakeup()

    private struct State {
        var stopping = false
        var active: [String: Task<Void, Never>] = [:]
        var claimed = 0
        var completed = 0
        /// Providers (limit keys) this worker cannot ask, and why (a missing key names its variable): their jobs
        /// are left queued for other workers.
        var refused: [String: String] = [:]
    }

    enum Outcome: Sendable { case done, released(String), lost }

    /// - Throws: ``StoreError/queueNeedsPostgres(location:)`` when `store` is SQLite.
    public init(store: any SurveyStore, directory: ProviderDirectory, options: WorkerOptions = WorkerOptions(),
                logger: Logger = Logger(label: "converge.worker")) throws {
        self.queue = try workQueue(store)
        self.store = store
        self.directory = directory
        self.options = options
        self.logger = logger
        let suffix = String(UUID().uuidString.prefix(6)).lowercased()
        self.id = "\(ProcessInfo.processInfo.hostName):\(getpid()):\(suffix)"
    }

    /// Jobs this worker has claimed and finished so far.
    public var counts: (claimed: Int, completed: Int) { state.withLock { ($0.claimed, $0.completed) } }

    /// Takes and asks jobs until a graceful shutdown (or cancellation), then gives back what it still holds.
    public func run() async throws {
        let heartbeat = Task { await self.heartbeats() }
        await withGracefulShutdownHandler {
            await self.takeJobs()
        } onGracefulShutdown: {
            self.stop()
        }
        stop()
        // Each job gives its lease back as it ends (cancelled); they end within moments.
        let deadline = ContinuousClock.now + .seconds(30)
        while !state.withLock({ $0.active.isEmpty }) && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        heartbeat.cancel()
    }

    /// Stops taking jobs and cancels the ones in flight.
    public func stop() {
        let tasks = state.withLock { state -> [Task<Void, Never>] in
            state.stopping = true
            return Array(state.active.values)
        }
        for task in tasks { task.cancel() }
        wakeup.signal()
    }

    private var stopping: Bool { state.withLock { $0.stopping } || Task.isCancelled }

    private func takeJobs() async {
        var failures = 0
        while !stopping {
            let free = options.slots - state.withLock { $0.active.count }
            var claimed: [LeasedJob] = []
            if free > 0 {
                do {
                    claimed = try await queue.claim(worker: id, max: free, lease: options.lease) { self.serves($0) }
                    failures = 0
                } catch {
                    failures += 1
                    logger.warning("cannot take jobs", metadata: ["error": "\(error)"])
                }
            }
            for lease in claimed { start(lease) }
            if claimed.isEmpty || claimed.count < free {
                // Idle, full, or held back by a provider's limit: wait for a job to end, or a little (longer while
                // the database is away).
                let base = failures > 0 ? min(Duration.seconds(2), options.poll * (1 << min(failures, 4))) : options.poll
                await wakeup.wait(timeout: base + base * Double.random(in: 0..<0.5))
            }
        }
    }

    /// Whether this worker can ask a provider's jobs: it has the provider (built in, or in its config file) and its
    /// key. The first time one is refused it is logged (naming the key's variable, never a key).
    func serves(_ provider: String) -> Bool {
        if state.withLock({ $0.refused[provider] != nil }) { return false }
        do {
            _ = try directory.endpoint(for: provider)
            return true
        } catch {
            refuse(provider, because: error.description)
            return false
        }
    }

    private func refuse(_ provider: String, because reason: String) {
        let first = state.withLock { state in
            defer { state.refused[provider] = reason }
            return state.refused[provider] == nil
        }
        if first {
            logger.warning("not taking jobs of this provider; they are left for a worker that can ask it",
                           metadata: ["provider": "\(provider)", "reason": "\(reason)"])
        }
    }

    /// Providers this worker does not take jobs of, with the reason.
    public var refusedProviders: [String: String] { state.withLock { $0.refused } }

    /// Asks a leased job in a task of its own, which gives the lease back if it is cancelled (the worker stops,
    /// or lost the lease: then nothing matches) and leaves ``State/active`` when it ends.
    private func start(_ lease: LeasedJob) {
        logger.debug("took", metadata: ["job": "\(lease.job.id)", "claims": "\(lease.claims)"])
        // Created under the lock, so that it is in `active` before it can leave it.
        state.withLock { state in
            let task = Task {
                let outcome = await self.ask(lease)
                if case .released(let token) = outcome {
                    do {
                        try await self.queue.release([token])
                    } catch {
                        self.logger.warning("could not give a lease back; it expires by itself", metadata: ["error": "\(error)"])
                    }
                }
                self.state.withLock { state in
                    state.active[lease.token] = nil
                    if case .done = outcome { state.completed += 1 }
                }
                self.wakeup.signal()
            }
            state.active[lease.token] = task
            state.claimed += 1
            if state.stopping { task.cancel() }
        }
    }

    /// Renews every lease held; a job whose lease was lost is cancelled (its writes would be refused anyway).
    private func heartbeats() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: options.heartbeat)
            let tokens = state.withLock { Array($0.active.keys) }
            guard !tokens.isEmpty else { continue }
            do {
                let held = try await queue.extend(tokens, lease: options.lease)
                let lost = state.withLock { state in tokens.filter { !held.contains($0) }.compactMap { state.active[$0] } }
                for task in lost { task.cancel() }
                if !lost.isEmpty { logger.warning("lost leases", metadata: ["jobs": "\(lost.count)"]) }
            } catch {
                logger.warning("cannot renew leases", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Asks one leased thread to its end, or until cancelled.
    private func ask(_ lease: LeasedJob) async -> Outcome {
        let job = lease.job
        let plan: (member: SurveyMember, survey: Survey, options: RunnerOptions, existing: [StoredRequest])
        do {
            plan = try await StoreJournal.persisting { try await self.load(job) }
        } catch let error as ProviderUnavailable {
            // Not this worker's to ask after all (its key or provider is missing): given back at once, no failure
            // stored, and its provider not taken again.
            refuse(job.limitKey, because: error.description)
            return .released(lease.token)
        } catch let error as SetupError {
            // This worker cannot ask it (a key it lacks, a panelist gone): the thread's turns fail, saying why.
            return await fail(lease, cause: error.description)
        } catch {
            logger.warning("cannot read the survey of a job", metadata: ["job": "\(job.id)", "error": "\(error)"])
            return Task.isCancelled ? .released(lease.token) : .lost
        }
        let journal = LeasedJournal(store: store, queue: queue, lease: lease, existing: plan.existing)
        guard let runner = try? SurveyRunner(members: [plan.member], options: plan.options, logger: logger) else {
            return await fail(lease, cause: "the thread's settings are not valid")
        }
        _ = await runner.runThread(member: plan.member, sample: job.sample, survey: plan.survey,
                                   global: AsyncSemaphore(permits: 1), providerSemaphore: AsyncSemaphore(permits: 1),
                                   events: nil, journal: journal)
        if Task.isCancelled { return .released(lease.token) }
        return await finish(lease)
    }

    private func finish(_ lease: LeasedJob) async -> Outcome {
        let done = (try? await StoreJournal.persisting { try await self.queue.complete(lease) }) ?? false
        return done ? .done : .lost
    }

    private func fail(_ lease: LeasedJob, cause: String) async -> Outcome {
        logger.warning("cannot ask a job", metadata: ["job": "\(lease.job.id)", "cause": "\(cause)"])
        let turns = (try? await store.turns(surveyID: lease.job.surveyID))?.count ?? 1
        for turn in 0..<max(1, turns) {
            _ = try? await queue.recordLeasedFailure(lease, key: StoredRequestKey(turn: turn, panelistID: lease.job.panelistID,
                                                                                  sample: lease.job.sample),
                                                     cacheKey: "", request: Data("{}".utf8), error: cause, attempts: 0)
        }
        return await finish(lease)
    }

    struct SetupError: Error, CustomStringConvertible { var description: String }
    struct ProviderUnavailable: Error, CustomStringConvertible { var description: String }

    private func load(_ job: QueueJob) async throws
        -> (member: SurveyMember, survey: Survey, options: RunnerOptions, existing: [StoredRequest]) {
        let loaded = try await SurveyArchive(store: store).load(job.surveyID)
        guard let index = loaded.spec.panel.firstIndex(where: { $0.id == job.panelistID }) else {
            throw SetupError(description: "panelist `\(job.panelistID)` is not in the survey's panel")
        }
        // Only the job's own panelist is resolved: another panelist's provider may be another worker's.
        var own = loaded.spec
        own.panel = [loaded.spec.panel[index]]
        let resolved: [SurveyMember]
        do throws(ProviderError) {
            resolved = try own.members(directory: directory)
        } catch {
            switch error {
            case .missingAPIKey, .unknownProvider:
                throw ProviderUnavailable(description: "worker \(id): \(error.description)")
            default:
                throw SetupError(description: "worker \(id): \(error.description)")
            }
        }
        guard let member = resolved.first else {
            throw SetupError(description: "panelist `\(job.panelistID)` is not in the survey's panel")
        }
        var options = loaded.spec.options()
        if let attempts = self.options.maxAttempts { options.retry.maxAttempts = max(1, attempts) }
        let existing = loaded.requests.filter { $0.key.panelistID == job.panelistID && $0.key.sample == job.sample }
        return (member, loaded.survey, options, existing)
    }
}
