import ArgumentParser
import ConvergeAnalysis
import ConvergeCore
import ConvergeJudge
import ConvergeRunner
import ConvergeStore
import Foundation

/// Asks a batch's stored surveys one after another (each with its own fan-out over panelists and samples), as
/// `batch` and `batches resume` share: every request journalled, the response cache applying across the batch,
/// each survey's analysis stored when it ends. Ctrl-C stops the survey being asked and leaves the batch
/// resumable (exit 130).
struct BatchExecution {
    /// One survey to ask: its plan, and what the store already holds of it.
    struct Planned {
        var itemID: String
        var surveyID: String
        var plan: SurveyPlan
        var judge: Judge?
        /// The owner the stored survey has now (a claim expects it).
        var owner: String?
        var existing: [StoredRequest] = []
    }

    var store: any SurveyStore
    var analyzer: Analyzer
    var quiet: Bool
    var useCache: Bool
    /// With `--queue`: the work queue; the workers ask the surveys, this process follows them.
    var queue: (any WorkQueue)? = nil

    /// Claims every planned survey for this process first (a compare-and-set each, so that of two processes
    /// resuming one batch at once only one goes on), then asks them in order, releasing each as it ends. One
    /// signal handler covers the whole batch (a dispatch signal source installed again after one was cancelled
    /// is not delivered on Linux).
    /// - Returns: how many surveys had a failed request, and the first store error (nothing is thrown for those:
    ///   the caller reports first, then exits 3 or 5).
    /// - Throws: `InputError` when another process has claimed a survey; `ExitCode` 130 (128 + the signal)
    ///   when interrupted.
    func run(_ planned: [Planned], batchID: String, total: Int) async throws -> (failures: Int, storeError: StoreError?) {
        let work = Task {
            if let queue { return try await followAll(planned, queue: queue, batchID: batchID, total: total) }
            return try await askAll(planned, batchID: batchID, total: total)
        }
        let interrupt = InterruptHandler.cancelling(work)
        defer { interrupt.stop() }
        do {
            return try await work.value
        } catch is CancellationError {
            note("converge: interrupted; batch \(batchID) is kept: `converge batches resume \(batchID)` finishes it", always: true)
            throw ExitCode(interrupt.exitStatus)
        }
    }

    /// Claims every planned survey for this process, or none.
    /// - Throws: `InputError` when another process has claimed one.
    func claimAll(_ planned: [Planned], batchID: String) async throws {
        var claimed: [String] = []
        for item in planned {
            guard try await store.claim(surveyID: item.surveyID, owner: SurveyOwner.current, expected: item.owner) else {
                for id in claimed { _ = try? await store.claim(surveyID: id, owner: nil, expected: SurveyOwner.current) }
                throw InputError(field: "batch \(batchID)",
                                 "survey \(item.surveyID) (\(item.itemID)) is being asked by another converge; wait for it to end")
            }
            claimed.append(item.surveyID)
        }
    }

    private func askAll(_ planned: [Planned], batchID: String, total: Int) async throws -> (failures: Int, storeError: StoreError?) {
        var failures = 0
        var storeError: StoreError?
        try await claimAll(planned, batchID: batchID)
        for (n, item) in planned.enumerated() {
            if Task.isCancelled {
                for later in planned[n...] {
                    _ = try? await store.claim(surveyID: later.surveyID, owner: nil, expected: SurveyOwner.current)
                }
                throw CancellationError()
            }
            try await store.setStatus(surveyID: item.surveyID, .running)
            let journal = StoreJournal(store: store, surveyID: item.surveyID, existing: item.existing, useCache: useCache)
            let runner = try item.plan.runner()
            let (events, task) = runner.start(item.plan.survey, journal: journal)
            let result = await withTaskCancellationHandler {
                for await _ in events {}
                return await task.value
            } onCancel: {
                task.cancel()
            }
            _ = try? await store.claim(surveyID: item.surveyID, owner: nil, expected: SurveyOwner.current)
            if result.cancelled {
                try? await store.setStatus(surveyID: item.surveyID, .interrupted)
                for later in planned[(n + 1)...] {
                    _ = try? await store.claim(surveyID: later.surveyID, owner: nil, expected: SurveyOwner.current)
                }
                throw CancellationError()
            }
            try await conclude(item, result: result, done: total - planned.count + n + 1, total: total)
            if !result.allAnswered { failures += 1 }
            if storeError == nil { storeError = journal.firstError }
        }
        return (failures, storeError)
    }

    /// Stores a survey's analysis (and its judge's), and notes how it went.
    func conclude(_ item: Planned, result: SurveyResult, done: Int, total: Int) async throws {
        let archive = SurveyArchive(store: store)
        var report = try await archive.finish(item.surveyID, result: result, rubric: item.plan.rubric, analyzer: analyzer)
        if let judge = item.judge, !report.answered.isEmpty {
            let cache = StoreModelCallCache(store: store, surveyID: item.surveyID, useCache: useCache)
            let input = result.analysisInput(rubric: item.plan.rubric)
            report = await archive.embeddingCache(item.surveyID).using(analyzer, for: input) {
                await judge.caching(cache).judgeReporting(report, input: input, analyzer: $0)
            }
            try await archive.saveAnalysis(item.surveyID, report: report, turn: max(0, result.turns.count - 1))
        }
        let answered = report.answered.count
        note("converge: [\(done)/\(total)] \(item.itemID): \(answered)/\(report.panelists.count) answered (survey \(item.surveyID))")
    }

    func note(_ line: String, always: Bool = false) {
        if always || !quiet { FileHandle.standardError.write(Data((line + "\n").utf8)) }
    }
}
