import ConvergeAnalysis
import ConvergeCore
import ConvergeRunner
import ConvergeStore
import MCP

/// One run of a planned, stored survey (`ask`, `follow_up`), as the CLI's survey execution does it: every
/// request journalled to the store, progress as MCP notifications, cancellation stops the runner and leaves the
/// survey `interrupted` (resumable: `converge surveys resume ID`), then the analysis stored and returned.
struct SurveyRun: Sendable {
    let plan: SurveyPlan
    let archive: SurveyArchive
    let id: String
    let journal: StoreJournal
    let analyzer: Analyzer
    let blind: Bool
    let markdown: Bool

    /// Runs to the end and returns the report as the tools do.
    /// - Throws: `CancellationError` when the calling task was cancelled (the protocol sends no response then);
    ///   the survey is stored as `interrupted` first.
    func run(progress: ProgressReporter) async throws -> CallTool.Result {
        let runner = try plan.runner()
        let total = plan.survey.turns.count * plan.options.samples * plan.members.count
        let names = Dictionary(plan.members.enumerated().map { n, member in
            (member.panelist.id, blind ? "AI \(n + 1)" : member.panelist.label)
        }) { first, _ in first }
        await progress.report(0, of: total, "survey \(id) started: \(plan.members.count) panelists, \(total) requests")
        let (events, task) = runner.start(plan.survey, journal: journal)
        let result = await withTaskCancellationHandler {
            await announce(events, total: total, names: names, progress: progress)
            return await task.value
        } onCancel: {
            task.cancel()
        }
        // Recorded in a task of its own: a cancelled request must still leave the survey stored as it stopped.
        let archive = archive, id = id, plan = plan, analyzer = analyzer, useCache = journal.useCache
        let report = try await Task { () throws -> Report? in
            let store = archive.store
            _ = try? await store.claim(surveyID: id, owner: nil, expected: SurveyOwner.current)
            if result.cancelled {
                try? await store.setStatus(surveyID: id, .interrupted)
                return nil
            }
            var report = try await archive.finish(id, result: result, rubric: plan.rubric, analyzer: analyzer)
            if let judge = plan.judge, !report.answered.isEmpty {
                // Through the survey's response cache, as the panel's requests are.
                let cache = StoreModelCallCache(store: store, surveyID: id, useCache: useCache)
                let input = result.analysisInput(rubric: plan.rubric)
                report = await archive.embeddingCache(id).using(analyzer, for: input) {
                    await judge.caching(cache).judge(report, input: input, analyzer: $0)
                }
                try await archive.saveAnalysis(id, report: report, turn: max(0, result.turns.count - 1))
            }
            return report
        }.value
        guard let report else { throw CancellationError() }
        var output = try ToolResult.report(blind ? report.blinded() : report, surveyID: id,
                                           status: SurveyArchive.status(of: result).rawValue, markdown: markdown)
        if let error = journal.firstError {
            output = CallTool.Result(content: output.content + [.plain("Not everything was stored: \(error)")],
                                     structuredContent: output.structuredContent, isError: output.isError)
        }
        return output
    }
}

extension SurveyRun {
    /// One progress notification per request answered, failed or retried, counting finished requests. The
    /// value increases with every notification, as MCP requires: a retry moves it halfway to the next request.
    private func announce(_ events: AsyncStream<SurveyEvent>, total: Int, names: [String: String],
                          progress: ProgressReporter) async {
        var done = 0
        var reported = 0.0
        let turns = plan.survey.turns.count
        for await event in events {
            let name = names[event.key.panelistID] ?? event.key.panelistID
            let turn = turns > 1 ? " (turn \(event.key.turn + 1))" : ""
            switch event {
            case .started:
                continue
            case .retrying(_, let attempt, let delay, let reason):
                // Blind: a provider's words may name its model; the blinded report words the failure.
                let why = blind ? "" : " (\(reason))"
                reported += (Double(done + 1) - reported) / 2
                await progress.report(reported, of: total, "\(name)\(turn): attempt \(attempt) failed\(why); "
                                      + "retrying in \(Int(delay.rounded())) s")
            case .answered:
                done += 1
                reported = Double(done)
                await progress.report(reported, of: total, "\(name)\(turn) answered")
            case .failed(_, let cause):
                done += 1
                reported = Double(done)
                await progress.report(reported, of: total, "\(name)\(turn) failed" + (blind ? "" : ": \(cause)"))
            }
        }
    }
}

/// Surveys asked with `wait: false`: each runs in a task of its own, after the tool has answered; and the ids of
/// those a tool call is asking now, so that a server that stops leaves none of them `running`.
public actor BackgroundSurveys {
    private var running: [String: Task<Void, Never>] = [:]
    private var asking: Set<String> = []

    func begin(_ id: String) { asking.insert(id) }
    func end(_ id: String) { asking.remove(id) }

    /// Marks the surveys that tool calls were still asking `interrupted` (resumable) and releases them: the
    /// process is ending (end of input, SIGTERM) before those calls could record how they stopped.
    public func interruptAsking(in store: any SurveyStore) async {
        for id in asking.sorted() {
            try? await store.setStatus(surveyID: id, .interrupted)
            _ = try? await store.claim(surveyID: id, owner: nil, expected: SurveyOwner.current)
        }
        asking.removeAll()
    }

    func start(_ run: SurveyRun) {
        let id = run.id
        running[id] = Task {
            _ = try? await run.run(progress: ProgressReporter(server: nil, token: nil))
            self.finished(id)
        }
    }

    /// Stops every survey still running (they are left `interrupted`, resumable), before the store closes.
    public func cancelAll() async {
        let tasks = running.values
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
    }

    private func finished(_ id: String) { running[id] = nil }
}
