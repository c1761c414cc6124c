import ArgumentParser
import ConvergeAnalysis
import ConvergeCore
import ConvergeJudge
import ConvergeProviders
import ConvergeRunner
import ConvergeStore
import Foundation

/// Runs a survey the way `ask`, `surveys resume` and `follow-up` share: progress on standard error, Ctrl-C
/// stops it (and leaves it resumable), every request journalled to the store, then the analysis stored and
/// the report written. Exit status as `ask`: 0 all answered, 3 some failed, 4 all failed, 130 interrupted,
/// 5 the store could not record everything (the report is still written).
struct SurveyExecution {
    var runner: SurveyRunner
    var survey: Survey
    var rubric: Rubric?
    /// The analyser with the chosen similarity model (blind is applied when the report is written).
    var analyzer: Analyzer
    var report: ReportOptions
    var quiet: Bool
    /// The stored survey, with its journal; `nil` with `ask --no-store`.
    var stored: (archive: SurveyArchive, id: String, journal: StoreJournal)?
    /// A judge of the analysis (`--judge`), asked once the panel has answered.
    var judge: Judge? = nil
    /// With `--queue`: the work queue and the stored survey's jobs; workers ask them, this process follows.
    var queued: (queue: any WorkQueue, jobs: [QueueJob])? = nil

    func run() async throws {
        let panelists = runner.members.map(\.panelist)
        let display = ProgressDisplay(panelists: panelists, requestsPerPanelist: survey.turns.count * runner.options.samples,
                                      quiet: quiet)
        let result: SurveyResult
        if let queued, let stored {
            result = try await follow(queued, stored: stored, display: display)
        } else {
            result = try await askHere(display: display)
        }
        try await conclude(result, display: display)
    }

    /// Queues the survey's threads and follows them until the workers have done every one; Ctrl-C stops
    /// following (the workers go on) and exits 130.
    private func follow(_ queued: (queue: any WorkQueue, jobs: [QueueJob]),
                        stored: (archive: SurveyArchive, id: String, journal: StoreJournal),
                        display: ProgressDisplay) async throws -> SurveyResult {
        try await queued.queue.enqueue(queued.jobs)
        display.note("converge: survey \(stored.id): \(queued.jobs.count) threads queued for `converge worker`")
        let quiet = self.quiet
        let following = Task {
            try await QueueFollower(queue: queued.queue).follow(surveyIDs: [stored.id]) { progress in
                if !quiet {
                    FileHandle.standardError.write(Data(
                        "converge: queue: \(progress.done)/\(progress.total) threads done, \(progress.leased) being asked\n".utf8))
                }
            }
        }
        let interrupt = InterruptHandler.cancelling(following)
        defer { interrupt.stop() }
        do {
            try await following.value
        } catch is CancellationError {
            _ = try? await stored.archive.store.claim(surveyID: stored.id, owner: nil, expected: SurveyOwner.current)
            display.note("converge: interrupted; the workers go on asking survey \(stored.id): "
                + "`converge surveys resume \(stored.id) --queue` reports it")
            throw ExitCode(interrupt.exitStatus)
        }
        _ = try? await stored.archive.store.claim(surveyID: stored.id, owner: nil, expected: SurveyOwner.current)
        return SurveyArchive.result(of: try await stored.archive.load(stored.id))
    }

    /// Asks the panel in this process.
    private func askHere(display: ProgressDisplay) async throws -> SurveyResult {
        let (events, task) = runner.start(survey, journal: stored?.journal)
        let interrupt = InterruptHandler.cancelling(task)
        for await event in events { display.handle(event) }
        let result = await task.value
        interrupt.stop()
        if let stored {
            // Nobody is asking it any more: another process may resume or delete it now.
            _ = try? await stored.archive.store.claim(surveyID: stored.id, owner: nil, expected: SurveyOwner.current)
        }

        if result.cancelled {
            if let stored {
                try? await stored.archive.store.setStatus(surveyID: stored.id, .interrupted)
                display.note("converge: interrupted; survey \(stored.id) is kept: `converge surveys resume \(stored.id)` finishes it")
            } else {
                display.note("converge: interrupted; nothing written")
            }
            throw ExitCode(interrupt.exitStatus)
        }
        return result
    }

    /// Analyses and stores the result, asks the judge, writes the report, and exits as `ask` does.
    private func conclude(_ result: SurveyResult, display: ProgressDisplay) async throws {
        var consolidated: Report
        if let stored {
            consolidated = try await stored.archive.finish(stored.id, result: result, rubric: rubric, analyzer: analyzer)
            let reused = stored.journal.reusedFromSurvey, cached = stored.journal.reusedFromCache
            var parts: [String] = []
            if reused > 0 { parts.append("\(reused) \(reused == 1 ? "answer was" : "answers were") already stored") }
            if cached > 0 { parts.append("\(cached) came from the response cache (--no-cache sends them)") }
            if !quiet && !parts.isEmpty { display.note("converge: " + parts.joined(separator: "; ")) }
        } else {
            consolidated = result.report(analyzer: analyzer, rubric: rubric)
        }
        if let judge, !consolidated.answered.isEmpty {
            // The matcher's analysis is stored first: a judge that fails or hangs loses nothing.
            if !quiet { display.note("converge: asking the judge \(judge.spec)") }
            // Its request goes through the survey's response cache, as the panel's do.
            let cache = stored.map { StoreModelCallCache(store: $0.archive.store, surveyID: $0.id, useCache: $0.journal.useCache) }
            let input = result.analysisInput(rubric: rubric), matched = consolidated
            let judging = { (analyzer: Analyzer) in
                await judge.caching(cache).judgeReporting(matched, input: input, analyzer: analyzer)
            }
            if let stored {
                consolidated = await stored.archive.embeddingCache(stored.id).using(analyzer, for: input, judging)
            } else {
                consolidated = await judging(analyzer)
            }
            if let stored {
                try await stored.archive.saveAnalysis(stored.id, report: consolidated, turn: max(0, result.turns.count - 1))
            }
        }
        try report.emit(report.blind ? consolidated.blinded() : consolidated)
        let failed = consolidated.panelists.filter { $0.status == .failed }
        if !quiet {
            for panelist in failed {
                let label = report.blind ? "a panelist" : panelist.label
                display.note("converge: \(label) failed: \(panelist.error ?? "no answer")")
            }
        }
        if let error = stored?.journal.firstError {
            display.note("converge: error: not everything was stored: \(error)")
            throw ExitCode(5)
        }
        if failed.count == consolidated.panelists.count { throw ExitCode(4) }
        if !result.allAnswered { throw ExitCode(3) }
    }
}
