import ConvergeAnalysis
import ConvergeCore
import ConvergeJudge
import ConvergeProviders
import ConvergeRunner
import ConvergeStore
import Foundation
import Logging
import ServiceLifecycle

/// Asks stored surveys in the background for the server, one task per running survey, and fans each run's
/// progress out to Server-Sent Events clients (``subscribe(_:)``).
///
/// Lifecycle (a swift-service-lifecycle `Service`; `converge serve` runs it in its `ServiceGroup` after the
/// HTTP application, so it is shut down first):
/// - On start, every stored survey left `running` or `interrupted` (by a server that was killed or stopped) is
///   resumed, unless another live process is asking it (its owner mark, ``SurveyOwner``) or it has threads in
///   the work queue of `converge worker` that are not done (PostgreSQL): its stored answers
///   are reused as they are; pending and failed requests are sent again. The server marks every survey it asks
///   as its own (compare-and-set) and clears the mark when the run ends.
/// - On graceful shutdown (SIGTERM, SIGINT) every running survey is cancelled; in-flight requests are recorded
///   as failed (`cancelled`), the survey is left `interrupted`, and the next start resumes it. New surveys are
///   refused with 503 from then on.
///
/// Keys come from the server's environment through `directory` (read again on resume), never from requests,
/// and never appear in what the service stores or sends.
public actor SurveyService: Service {
    public nonisolated let store: any SurveyStore
    nonisolated let directory: ProviderDirectory
    /// The config file's run settings (`timeout`, `max_attempts`, `concurrency`), applied as `ask` applies them.
    nonisolated let config: ConvergeConfig
    nonisolated let logger: Logger
    /// How stored surveys' answers are matched when they name no matching: the server's default matching
    /// (hybrid when it has loaded the embedding model, else lexical); vectors go through each survey's embedding
    /// cache.
    nonisolated let analyzer: Analyzer
    /// With `converge serve --queue` (PostgreSQL): the work queue that new, followed-up and resumed surveys are
    /// queued in for `converge worker` processes; this server only follows them (``follow(_:plan:existing:)``)
    /// and analyses each when its threads are done. `nil`: the server asks its surveys itself.
    nonisolated let queue: (any WorkQueue)?
    /// The surveys this server is asking or following for analysis, with their event hubs. A batch's surveys
    /// share one task (they are asked one after another).
    var runs: [String: (task: Task<Void, Never>, hub: SurveyEventHub)] = [:]
    /// Surveys whose threads run on workers, followed by polling the database (``SurveyService+Queue``).
    var watched: [String: QueueWatch] = [:]
    var watchLoop: Task<Void, Never>?
    /// How often followed surveys are read from the database.
    nonisolated let queuePoll: Duration
    private(set) var stopping = false
    /// The matching a survey names (``SurveySpec/similarity``); `nil`: every survey is analysed by `analyzer`.
    nonisolated let similarity: (@Sendable (_ name: String) throws -> any SimilarityModel)?
    /// Surveys with a follow-up or a delete under way: a second one at the same time is refused (409) before it
    /// stores anything (the actor lets calls interleave at every `await`).
    private var busy: Set<String> = []

    /// - Parameters:
    ///   - store: the open store; the service never closes it (its owner does, after the service has stopped).
    ///   - directory: the providers, keys and base URLs (the server's environment and config file).
    ///   - config: the config file, for its run settings: new surveys take its `timeout`, `concurrency` and
    ///     `max_attempts`; a resumed survey keeps its stored timeout and concurrency and takes `max_attempts`.
    ///   - analyzer: the analysis settings of every survey that names no matching (default: lexical matching).
    ///   - similarity: the similarity model for a survey's own `similarity`; a survey whose matching cannot be
    ///     made any more (the model gone since it was stored) is analysed by `analyzer`, with a warning.
    public init(store: any SurveyStore, directory: ProviderDirectory = ProviderDirectory(),
                config: ConvergeConfig = ConvergeConfig(), analyzer: Analyzer = Analyzer(),
                similarity: (@Sendable (_ name: String) throws -> any SimilarityModel)? = nil,
                logger: Logger = Logger(label: "converge.surveys"), queue: (any WorkQueue)? = nil,
                queuePoll: Duration = .milliseconds(300)) {
        self.store = store
        self.queue = queue
        self.queuePoll = queuePoll
        self.analyzer = analyzer
        self.similarity = similarity
        self.directory = directory
        self.config = config
        self.logger = logger
    }

    public func run() async throws {
        await resumeLeftOver()
        try? await gracefulShutdown()
        await stop()
    }

    /// Cancels every running survey and waits until each is recorded as `interrupted`. New surveys are refused.
    public func stop() async {
        stopping = true
        let tasks = runs.values.map(\.task) + (watchLoop.map { [$0] } ?? [])
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
    }

    /// Waits until no survey is being asked (tests).
    public func waitUntilIdle() async {
        while let task = runs.values.first?.task { await task.value }
    }

    /// Whether this server is asking the survey now.
    public func isRunning(_ id: String) -> Bool { runs[id] != nil }

    /// Resumes the stored surveys left `running` or `interrupted`; one that cannot be (a key now missing) is
    /// logged and left as it is.
    public func resumeLeftOver() async {
        var offset = 0
        var ids: [String] = []
        do {
            while true {
                let page = try await store.surveys(limit: 100, offset: offset)
                ids += page.filter { $0.status == .running || $0.status == .interrupted }.map(\.id)
                if page.count < 100 { break }
                offset += 100
            }
        } catch {
            logger.error("cannot list stored surveys to resume", metadata: ["error": "\(error)"])
            return
        }
        // Threads queued for `converge worker` (PostgreSQL) are the workers' to ask, not this server's; a server
        // that queues its own surveys (`--queue`) queues these again (what is queued keeps its place) and follows them.
        if queue == nil, let queue = try? workQueue(store), !ids.isEmpty {
            do {
                let queued = Set(try await queue.jobs(surveyIDs: ids).filter { $0.state != .done }.map(\.job.surveyID))
                for id in queued { logger.notice("survey left to the workers", metadata: ["survey": "\(id)"]) }
                ids.removeAll { queued.contains($0) }
            } catch {
                logger.error("cannot read the work queue to resume surveys", metadata: ["error": "\(error)"])
                return
            }
        }
        // A batch's surveys are asked one after another, as the batch asked them (with a queue, all at once).
        var batches: [[String]] = []
        if queue == nil, !ids.isEmpty {
            do {
                let left = Set(ids)
                var offset = 0
                while true {
                    let page = try await store.batches(limit: 100, offset: offset)
                    for batch in page {
                        let items = batch.items.map(\.surveyID).filter(left.contains)
                        if !items.isEmpty { batches.append(items) }
                    }
                    if page.count < 100 { break }
                    offset += 100
                }
            } catch {
                logger.error("cannot list stored batches to resume", metadata: ["error": "\(error)"])
            }
            let inBatches = Set(batches.joined())
            ids.removeAll { inBatches.contains($0) }
        }
        for id in ids where runs[id] == nil {
            do {
                let loaded = try await SurveyArchive(store: store).load(id)
                try await start(loaded)
                logger.notice("resumed survey", metadata: ["survey": "\(id)"])
            } catch {
                logger.warning("cannot resume survey", metadata: ["survey": "\(id)", "error": "\(error)"])
            }
        }
        for batch in batches { await resumeBatch(batch) }
    }

    /// Resumes the left-over surveys of one batch, in batch order: each claimed and planned again (one that
    /// cannot be is logged and left as it is), then asked one after another.
    private func resumeBatch(_ ids: [String]) async {
        var items: [(id: String, plan: SurveyPlan, existing: [StoredRequest])] = []
        for id in ids where runs[id] == nil {
            do {
                let loaded = try await SurveyArchive(store: store).load(id)
                try Self.checkNobodyElseAsks(loaded.record)
                let plan = try plan(resuming: loaded)
                guard try await store.claim(surveyID: id, owner: SurveyOwner.current, expected: loaded.record.owner) else {
                    throw APIError.surveyRunning(id)
                }
                items.append((id, plan, loaded.requests))
            } catch {
                logger.warning("cannot resume survey", metadata: ["survey": "\(id)", "error": "\(error)"])
            }
        }
        guard !items.isEmpty else { return }
        logger.notice("resumed batch surveys", metadata: ["surveys": "\(items.map(\.id).joined(separator: ","))"])
        launchBatch(items)
    }

    /// Stores a new survey and starts asking it.
    /// - Returns: the survey's id.
    /// - Throws: `APIError` 503 when shutting down or the store fails.
    func create(_ plan: SurveyPlan) async throws(APIError) -> String {
        guard !stopping else { throw .shuttingDown }
        let archive = SurveyArchive(store: store)
        let id: String
        do {
            id = try await archive.create(plan.survey, spec: plan.spec)
            _ = try await store.claim(surveyID: id, owner: SurveyOwner.current, expected: nil)
            try await begin(id: id, plan: plan, existing: [])
        } catch {
            throw .store(error, logger: logger)
        }
        return id
    }

    /// Stores a batch: one survey per item (each planned already), then the batch row, and starts it: on SQLite
    /// (no ``queue``) its surveys are asked one after another, as `converge batch` asks them; with a queue every
    /// thread is queued at once for the workers and followed here.
    /// - Returns: the stored batch.
    /// - Throws: `APIError` 503 when shutting down or the store fails; what was stored before anything started is
    ///   deleted again (once started, a failure leaves the rest to be resumed at the next start).
    func createBatch(_ items: [(itemID: String, plan: SurveyPlan)]) async throws(APIError) -> StoredBatch {
        guard !stopping else { throw .shuttingDown }
        let archive = SurveyArchive(store: store)
        var created: [(id: String, plan: SurveyPlan, existing: [StoredRequest])] = []
        var batch: StoredBatch?
        var started = false
        do {
            for item in items {
                let id = try await archive.create(item.plan.survey, spec: item.plan.spec)
                created.append((id, item.plan, []))
                _ = try await store.claim(surveyID: id, owner: SurveyOwner.current, expected: nil)
            }
            let stored = StoredBatch(id: StoredSurvey.newID(), source: BatchViews.apiSource,
                                     spec: Data(#"{"kind":"ask","sources":["api"]}"#.utf8),
                                     items: zip(items, created).enumerated().map { n, pair in
                                         StoredBatch.Item(index: n, itemID: pair.0.itemID, surveyID: pair.1.id)
                                     })
            try await store.createBatch(stored)
            batch = stored
            started = true
            if queue != nil {
                for item in created { try await begin(id: item.id, plan: item.plan, existing: []) }
            } else {
                launchBatch(created)
            }
            return stored
        } catch {
            // Nothing started yet: nothing is kept. Once started, what was stored stays (resumed at the next start).
            if !started {
                if let batch { try? await store.deleteBatch(id: batch.id) }
                for item in created { try? await store.deleteSurvey(id: item.id) }
            }
            throw .store(error, logger: logger)
        }
    }

    /// Adds a turn to every thread of a survey that is not running, and starts asking it.
    /// - Throws: `APIError` 404, 409 (running), 422 (a key now missing; nothing stored), 503.
    func followUp(_ id: String, prompt: String) async throws(APIError) {
        guard !stopping else { throw .shuttingDown }
        let loaded = try await load(id)
        guard runs[id] == nil, !busy.contains(id) else { throw .surveyRunning(id) }
        busy.insert(id)
        defer { busy.remove(id) }
        try Self.checkNobodyElseAsks(loaded.record)
        _ = try plan(resuming: loaded)  // a key now missing: 422 before the turn is stored
        do {
            _ = try await store.appendTurn(surveyID: id, prompt: prompt)
            try await start(try await SurveyArchive(store: store).load(id))
        } catch let error as APIError {
            throw error
        } catch {
            throw .store(error, logger: logger)
        }
    }

    /// Deletes a survey that is not running.
    /// - Throws: `APIError` 404, 409 (running), 503.
    func delete(_ id: String) async throws(APIError) {
        let loaded = try await load(id)
        guard runs[id] == nil, !busy.contains(id) else { throw .surveyRunning(id) }
        busy.insert(id)
        defer { busy.remove(id) }
        try Self.checkNobodyElseAsks(loaded.record)
        do {
            try await store.deleteSurvey(id: id)
        } catch {
            throw .store(error, logger: logger)
        }
    }

    /// The live events of a running survey, or `nil` when this server is not asking it.
    func subscribe(_ id: String) -> AsyncStream<ServerSentEvent>? {
        (runs[id]?.hub ?? watched[id]?.hub)?.subscribe()
    }

    /// A stored survey by its exact id.
    /// - Throws: `APIError` 404 for an unknown id (a prefix is not enough here), 503 when the store fails.
    nonisolated func load(_ id: String) async throws(APIError) -> SurveyArchive.Loaded {
        // Ids are 12 characters of lowercase base 32: anything else is unknown without asking the database.
        guard id.utf8.count == 12, id.utf8.allSatisfy({ (48...57).contains($0) || (97...122).contains($0) }) else {
            throw APIError.notFound("no survey with this id")
        }
        do {
            let loaded = try await SurveyArchive(store: store).load(id)
            guard loaded.record.id == id else { throw StoreError.notFound(id) }
            return loaded
        } catch {
            throw .store(error, logger: logger)
        }
    }

    /// The latest report of a stored survey, blinded when the survey asked for it.
    /// - Throws: `APIError` 404 (unknown id), 409 (no report yet: running or never analysed), 503 (store).
    func report(_ id: String) async throws(APIError) -> Report {
        let loaded = try await load(id)
        let stored: Report?
        do {
            stored = try await SurveyArchive(store: store).latestReport(loaded.record.id)
        } catch {
            throw .store(error, logger: logger)
        }
        guard let report = stored else {
            throw APIError.conflict("survey \(loaded.record.id) has no report yet (status \(loaded.record.status.rawValue))")
        }
        return loaded.spec.blind == true ? report.blinded() : report
    }

    /// The rest of a stored survey, planned as `converge surveys resume` plans it, with the config file's
    /// `max_attempts`.
    /// - Throws: `APIError` 422 (a provider now unknown, a key now missing).
    nonisolated func plan(resuming loaded: SurveyArchive.Loaded) throws(APIError) -> SurveyPlan {
        do {
            return try SurveyPlan(resuming: loaded.spec, survey: loaded.survey, directory: directory,
                                  maxAttempts: config.maxAttempts)
        } catch {
            throw APIError(error)
        }
    }

    /// Marks a stored survey running and asks what it lacks.
    private func start(_ loaded: SurveyArchive.Loaded) async throws {
        try Self.checkNobodyElseAsks(loaded.record)
        let plan = try plan(resuming: loaded)
        guard try await store.claim(surveyID: loaded.record.id, owner: SurveyOwner.current,
                                    expected: loaded.record.owner) else {
            throw APIError.surveyRunning(loaded.record.id)
        }
        try await store.setStatus(surveyID: loaded.record.id, .running)
        try await begin(id: loaded.record.id, plan: plan, existing: loaded.requests)
    }

    /// Starts a claimed survey: queued for the workers and followed (``queue``), or asked here.
    private func begin(id: String, plan: SurveyPlan, existing: [StoredRequest]) async throws {
        if let queue {
            try await queue.enqueue(QueueFollower.jobs(surveyID: id, plan: plan, useCache: true))
            _ = follow(id, plan: plan, existing: existing)
        } else {
            launch(id: id, plan: plan, existing: existing)
        }
    }

    private func launch(id: String, plan: SurveyPlan, existing: [StoredRequest]) {
        let hub = SurveyEventHub()
        let surveyAnalyzer = analyzer(for: plan.spec, id: id)
        let task = Task {
            await Self.ask(id: id, plan: plan, existing: existing, hub: hub, store: store, analyzer: surveyAnalyzer,
                           logger: logger)
            self.ended(id)
        }
        runs[id] = (task, hub)
    }

    /// Asks a batch's claimed surveys one after another in one task, each with its own hub from the start (so
    /// that a page can wait on a survey not asked yet). Cancelled, it leaves the survey being asked and every
    /// later one `interrupted` (resumed at the next start).
    func launchBatch(_ items: [(id: String, plan: SurveyPlan, existing: [StoredRequest])]) {
        let hubs = items.map { _ in SurveyEventHub() }
        let task = Task {
            for (n, item) in items.enumerated() {
                if Task.isCancelled {
                    for (later, hub) in zip(items[n...], hubs[n...]) {
                        try? await store.setStatus(surveyID: later.id, .interrupted)
                        _ = try? await store.claim(surveyID: later.id, owner: nil, expected: SurveyOwner.current)
                        hub.finish(with: .json("complete", Components.Schemas.SurveyCompletion(status: .interrupted)))
                        self.ended(later.id)
                    }
                    return
                }
                try? await store.setStatus(surveyID: item.id, .running)
                await Self.ask(id: item.id, plan: item.plan, existing: item.existing, hub: hubs[n], store: store,
                               analyzer: analyzer(for: item.plan.spec, id: item.id), logger: logger)
                self.ended(item.id)
            }
        }
        for (item, hub) in zip(items, hubs) { runs[item.id] = (task, hub) }
    }

    /// Asks one claimed survey to its end (or until cancelled), publishing its events to `hub`, stores how it
    /// ended, releases the claim and finishes the hub.
    private nonisolated static func ask(id: String, plan: SurveyPlan, existing: [StoredRequest], hub: SurveyEventHub,
                                        store: any SurveyStore, analyzer: Analyzer, logger: Logger) async {
        let journal = StoreJournal(store: store, surveyID: id, existing: existing)
        let final: ServerSentEvent
        do {
            let runner = try plan.runner(logger: logger)
            let (events, continuation) = AsyncStream.makeStream(of: SurveyEvent.self, bufferingPolicy: .unbounded)
            async let outcome = runner.run(plan.survey, events: continuation, journal: journal)
            for await event in events {
                for message in SurveyViews.events(for: event) { hub.publish(message) }
            }
            let result = await outcome
            // Recorded outside this (possibly cancelled) task, so that the writes are not cut short.
            final = await Task {
                await Self.record(result, id: id, store: store, rubric: plan.rubric, judge: plan.judge,
                                  analyzer: analyzer, logger: logger)
            }.value
        } catch {
            logger.error("survey could not start", metadata: ["survey": "\(id)", "error": "\(error)"])
            try? await store.setStatus(surveyID: id, .failed)
            final = .json("complete", Components.Schemas.SurveyCompletion(status: .failed))
        }
        if let error = journal.firstError {
            logger.error("not everything was stored", metadata: ["survey": "\(id)", "error": "\(error)"])
        }
        _ = try? await store.claim(surveyID: id, owner: nil, expected: SurveyOwner.current)
        hub.finish(with: final)
    }

    func ended(_ id: String) { runs[id] = nil }

    /// The analyser of a survey: its own matching (``SurveySpec/similarity``), else the server's default.
    nonisolated func analyzer(for spec: SurveySpec, id: String) -> Analyzer {
        guard let name = spec.similarity, let similarity else { return analyzer }
        do {
            return Analyzer(similarity: try similarity(name))
        } catch {
            logger.warning("the survey's matching cannot be made; analysing it with the server's default",
                           metadata: ["survey": "\(id)", "similarity": "\(name)", "error": "\(error)"])
            return analyzer
        }
    }

    /// Refuses (409) a survey that another live process is asking (`converge ask`, `surveys resume`, another
    /// server): both would send the same requests. This process's own mark counts as free: `runs` knows what
    /// this server is asking. A mark from another host is respected too (use `converge surveys resume --force`).
    nonisolated static func checkNobodyElseAsks(_ survey: StoredSurvey) throws(APIError) {
        guard survey.owner != SurveyOwner.current else { return }
        switch SurveyOwner.standing(of: survey.owner) {
        case .free:
            return
        case .alive(let pid):
            throw APIError.conflict("survey \(survey.id) is being asked by process \(pid) on this machine")
        case .elsewhere(let host, let pid):
            throw APIError.conflict("survey \(survey.id) is being asked by process \(pid) on \(host)")
        }
    }

    /// Stores how a run ended: `interrupted` when cancelled, else the analysis and the final status.
    static func record(_ result: SurveyResult, id: String, store: any SurveyStore, rubric: Rubric?,
                       judge: Judge?, analyzer: Analyzer, logger: Logger) async -> ServerSentEvent {
        if result.cancelled {
            try? await store.setStatus(surveyID: id, .interrupted)
            logger.notice("survey interrupted; it resumes when the server starts again", metadata: ["survey": "\(id)"])
            return .json("complete", Components.Schemas.SurveyCompletion(status: .interrupted))
        }
        do {
            let archive = SurveyArchive(store: store)
            let report = try await archive.finish(id, result: result, rubric: rubric, analyzer: analyzer)
            // The matcher's analysis is stored first; then the judged one, when the survey has a judge.
            if let judge, !report.answered.isEmpty {
                // Through the survey's response cache, as the panel's requests are.
                let cache = StoreModelCallCache(store: store, surveyID: id)
                let input = result.analysisInput(rubric: rubric)
                let judged = await archive.embeddingCache(id).using(analyzer, for: input) {
                    await judge.caching(cache).judge(report, input: input, analyzer: $0)
                }
                if judged.judge?.status == .failed {
                    logger.warning("the judge failed", metadata: ["survey": "\(id)", "error": "\(judged.judge?.error ?? "")"])
                }
                try await archive.saveAnalysis(id, report: judged, turn: max(0, result.turns.count - 1))
            }
            let status = SurveyViews.status(SurveyArchive.status(of: result))
            return .json("complete", Components.Schemas.SurveyCompletion(status: status,
                                                                        report: SurveyViews.links(id).report))
        } catch {
            logger.error("cannot store the survey's analysis", metadata: ["survey": "\(id)", "error": "\(error)"])
            try? await store.setStatus(surveyID: id, SurveyArchive.status(of: result))
            return .json("complete", Components.Schemas.SurveyCompletion(status: SurveyViews.status(SurveyArchive.status(of: result))))
        }
    }
}

extension APIError {
    static let shuttingDown = APIError.unavailable("the server is shutting down; try again when it is back")
    static let noStore = APIError.unavailable("this server has no survey store")

    static func surveyRunning(_ id: String) -> APIError {
        APIError.conflict("survey \(id) is being asked; wait until it ends (see its events)")
    }

    /// A store error as an API error: unknown ids 404, anything else 503 (logged; the message names the
    /// database, never its password).
    static func store(_ error: any Error, logger: Logger) -> APIError {
        if let error = error as? APIError { return error }
        switch error as? StoreError {
        case .notFound(let id)?, .ambiguous(let id, _)?:
            return APIError.notFound("no survey with id `\(id)`")
        default:
            logger.error("survey store error", metadata: ["error": "\(error)"])
            return APIError.unavailable("the survey store failed; try again later")
        }
    }
}
