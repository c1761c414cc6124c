import ConvergeProviders
import ConvergeRunner
import ConvergeStore
import Foundation

/// A survey whose threads `converge worker` processes ask (PostgreSQL), followed by this server in the database.
struct QueueWatch: Sendable {
    var hub: SurveyEventHub
    /// This server queued the survey and analyses it when its threads are done (`converge serve --queue`);
    /// `nil`: only watched for its event stream (another process, `ask --queue` or `batch --queue`, follows it).
    var plan: SurveyPlan?
    /// Each request's state as last published (or as the stream's `state` event showed it).
    var seen: [StoredRequestKey: RequestState]
    /// The survey's jobs done at the last poll: when it changes, answers may have been written.
    var doneJobs = -1
    /// Since when every thread has been done with nobody following the survey (a watched one): its follower may
    /// only be between releasing it and storing its analysis, so the stream ends only after ``orphanPatience``.
    var orphanedSince: ContinuousClock.Instant?

    static let orphanPatience = Duration.seconds(60)
}

/// Progress of surveys whose threads run on workers, through the same event hubs as surveys asked here: one loop
/// reads the work queue of every followed survey every ``SurveyService/queuePoll``, and the requests of those whose
/// jobs are leased or changed, and publishes what changed as `progress` and `response` events (an answer's
/// attempts and retries happen in the worker, so `retrying` is not seen here). A followed survey ends with
/// `complete`: analysed here when this server queued it, else once its follower has stored its status.
extension SurveyService {
    /// Follows a survey in the work queue, publishing its progress to its hub (kept while followed).
    /// - Parameters:
    ///   - plan: the survey's plan when this server queued it (it is analysed here once every thread is done,
    ///     and counts as running here); `nil` to watch it only.
    ///   - existing: the requests as already shown (the `state` event), so that only changes are published.
    /// - Returns: the survey's hub.
    func follow(_ id: String, plan: SurveyPlan?, existing: [StoredRequest]) -> SurveyEventHub {
        if let hub = runs[id]?.hub ?? watched[id]?.hub { return hub }
        let hub = SurveyEventHub()
        var seen: [StoredRequestKey: RequestState] = [:]
        for row in existing { seen[row.key] = row.state }
        watched[id] = QueueWatch(hub: hub, plan: plan, seen: seen)
        let loop = startWatchLoop()
        if plan != nil { runs[id] = (loop, hub) }
        return hub
    }

    /// The live events of a survey that another process queued for the workers (`ask --queue`, `batch --queue`),
    /// fed from the database; `nil` when it is not running with threads in the queue (or the store is SQLite).
    func subscribeQueued(_ id: String, existing: [StoredRequest]) async -> AsyncStream<ServerSentEvent>? {
        if let live = subscribe(id) { return live }
        guard let queue = try? workQueue(store), let jobs = try? await queue.jobs(surveyIDs: [id]),
              jobs.contains(where: { $0.state != .done }) else { return nil }
        // The actor may have started following it meanwhile.
        if let live = subscribe(id) { return live }
        return follow(id, plan: nil, existing: existing).subscribe()
    }

    private func startWatchLoop() -> Task<Void, Never> {
        if let watchLoop { return watchLoop }
        let loop = Task { await self.watchQueue() }
        watchLoop = loop
        return loop
    }

    private func watchQueue() async {
        defer { watchLoop = nil }
        guard let queue = self.queue ?? (try? workQueue(store)) else { return }
        while !watched.isEmpty && !Task.isCancelled {
            await pollQueue(queue)
            try? await Task.sleep(for: queuePoll)
        }
        guard Task.isCancelled else { return }
        // Shutting down: the workers go on; the next start follows (and analyses) these surveys again.
        for (id, watch) in watched {
            if watch.plan != nil {
                _ = try? await store.claim(surveyID: id, owner: nil, expected: SurveyOwner.current)
                runs[id] = nil
            }
            watch.hub.finish(with: .json("complete", Components.Schemas.SurveyCompletion(status: .running)))
        }
        watched = [:]
    }

    private func pollQueue(_ queue: any WorkQueue) async {
        let ids = Array(watched.keys)
        // The database away (a restart): try again at the next poll.
        guard let jobs = try? await queue.jobs(surveyIDs: ids) else { return }
        var total: [String: Int] = [:], done: [String: Int] = [:], leased = Set<String>()
        for job in jobs {
            total[job.job.surveyID, default: 0] += 1
            if job.state == .done { done[job.job.surveyID, default: 0] += 1 }
            if job.state == .leased { leased.insert(job.job.surveyID) }
        }
        for id in ids {
            guard var watch = watched[id] else { continue }
            let finished = (done[id] ?? 0) == (total[id] ?? 0)
            if leased.contains(id) || (done[id] ?? 0) != watch.doneJobs {
                guard let rows = try? await store.requests(surveyID: id) else {
                    if (try? await store.survey(id: id)) == nil { end(id, status: .failed, report: false) }
                    continue
                }
                for event in Self.changes(rows, seen: &watch.seen) { watch.hub.publish(event) }
                watch.doneJobs = done[id] ?? 0
                watched[id] = watch
            }
            if watch.plan != nil {
                if finished { analyse(id, watch: watch) }
            } else if let record = try? await store.survey(id: id) {
                if record.status != .running {
                    let report = (try? await store.latestAnalysis(surveyID: id)) != nil
                    end(id, status: record.status, report: report)
                } else if finished, case .free = SurveyOwner.standing(of: record.owner) {
                    // Every thread done and nobody left to analyse it (`surveys resume ID --queue` will), for longer
                    // than a follower takes between releasing the survey and storing its analysis.
                    let since = watch.orphanedSince ?? .now
                    if ContinuousClock.now - since > QueueWatch.orphanPatience {
                        end(id, status: record.status, report: false)
                    } else {
                        watched[id]?.orphanedSince = since
                    }
                } else {
                    watched[id]?.orphanedSince = nil
                }
            }
        }
    }

    private func end(_ id: String, status: SurveyStatus, report: Bool) {
        guard let watch = watched.removeValue(forKey: id) else { return }
        watch.hub.finish(with: .json("complete", Components.Schemas.SurveyCompletion(
            status: SurveyViews.status(status), report: report ? SurveyViews.links(id).report : nil)))
    }

    /// Analyses a survey this server queued, once every thread is done, in a task of its own (the loop goes on).
    private func analyse(_ id: String, watch: QueueWatch) {
        guard let plan = watch.plan, watched.removeValue(forKey: id) != nil else { return }
        let store = self.store, analyzer = self.analyzer(for: plan.spec, id: id), logger = self.logger
        let task = Task {
            let final: ServerSentEvent
            do {
                let result = SurveyArchive.result(of: try await SurveyArchive(store: store).load(id))
                // Outside this task, so that a shutdown does not cut the writes short.
                final = await Task {
                    await Self.record(result, id: id, store: store, rubric: plan.rubric, judge: plan.judge,
                                      analyzer: analyzer, logger: logger)
                }.value
            } catch {
                logger.error("cannot read a queued survey's answers", metadata: ["survey": "\(id)", "error": "\(error)"])
                final = .json("complete", Components.Schemas.SurveyCompletion(status: .running))
            }
            _ = try? await store.claim(surveyID: id, owner: nil, expected: SurveyOwner.current)
            watch.hub.finish(with: final)
            self.ended(id)
        }
        runs[id] = (task, watch.hub)
    }

    /// The events for what changed since `seen`: a request now pending is `started`, one answered `answered` with
    /// its `response`, one failed `failed` with its cause (turn, panelist and sample order).
    static func changes(_ rows: [StoredRequest], seen: inout [StoredRequestKey: RequestState]) -> [ServerSentEvent] {
        var events: [ServerSentEvent] = []
        let sorted = rows.sorted {
            ($0.key.turn, $0.key.panelistID, $0.key.sample) < ($1.key.turn, $1.key.panelistID, $1.key.sample)
        }
        for row in sorted where seen[row.key] != row.state {
            seen[row.key] = row.state
            let key = RequestKey(turn: row.key.turn, panelistID: row.key.panelistID, sample: row.key.sample)
            let event: SurveyEvent
            switch row.state {
            case .pending: event = .started(key, attempt: max(1, row.attempts))
            case .answered:
                guard let response = row.response else { continue }
                event = .answered(key, ChatResponse(response))
            case .failed: event = .failed(key, cause: row.error ?? "failed")
            }
            events += SurveyViews.events(for: event)
        }
        return events
    }
}
