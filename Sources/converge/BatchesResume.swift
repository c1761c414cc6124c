import ArgumentParser
import ConvergeAnalysis
import ConvergeCore
import ConvergeProviders
import ConvergeRunner
import ConvergeStore
import Foundation

/// `converge batches resume ID`: finish the batch's surveys that are not complete, then the batch report.
struct BatchesResume: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Finish a stored batch: ask only what its surveys have no stored answer for, then report.",
        discussion: """
            Complete surveys are left as they are; each other survey is resumed as `converge surveys resume` \
            does. While another converge is asking one of the batch's surveys, resume refuses (exit 2). With \
            --queue (PostgreSQL) the surveys' threads are queued again for `converge worker` (a thread keeps its \
            stored answers) and followed, as batch --queue does. Exit status as batch.
            """
    )

    @Argument(help: "Batch id (or a unique prefix).")
    var id: String

    @OptionGroup var continuing: ContinueOptions
    @OptionGroup var storage: StoreOptions
    @OptionGroup var report: BatchReportOptions

    func run() async throws {
        if continuing.queue, case .sqlite = try storage.location() {
            throw StoreError.queueNeedsPostgres(location: try storage.location().description)
        }
        try report.preflight()
        let configuration = try ConvergeConfig.load(explicitPath: continuing.config)
        let similarity = try continuing.matching.model()
        let judge = continuing.judging.spec == nil ? nil : try continuing.judging.judge(config: continuing.config)
        try await storage.withStore { store in
            let batch = try await store.batch(id: id)
            let archive = SurveyArchive(store: store)
            var planned: [BatchExecution.Planned] = []
            // Everything planned and checked first: a survey someone else is asking refuses the whole resume.
            for item in batch.items {
                let loaded = try await archive.load(item.surveyID)
                if loaded.record.status == .complete { continue }
                try ContinueOptions.checkNobodyElseAsks(loaded.record, force: continuing.force)
                try await continuing.checkQueue(store, surveyIDs: [item.surveyID])
                let plan: SurveyPlan
                do {
                    plan = try SurveyPlan(resuming: loaded.spec, survey: loaded.survey,
                                          directory: ProviderDirectory(config: configuration),
                                          concurrency: continuing.concurrency, timeoutSeconds: continuing.timeout,
                                          maxAttempts: configuration.maxAttempts)
                } catch {
                    throw (error as? SurveyPlanError)?.commandLineError ?? error
                }
                planned.append(BatchExecution.Planned(itemID: item.itemID, surveyID: item.surveyID, plan: plan,
                                                      judge: judge ?? continuing.judging.tuned(plan.judge),
                                                      owner: loaded.record.owner, existing: loaded.requests))
            }
            let done = batch.items.count - planned.count
            FileHandle.standardError.write(Data("converge: batch \(batch.id): \(done) of \(batch.items.count) surveys complete\n".utf8))
            let execution = BatchExecution(store: store, analyzer: Analyzer(similarity: similarity), quiet: continuing.quiet,
                                           useCache: !continuing.noCache, queue: try continuing.queue ? workQueue(store) : nil)
            let outcome = try await execution.run(planned, batchID: batch.id, total: batch.items.count)
            try await Batch.finish(batch, outcome: outcome, store: store, configuration: configuration, report: report)
        }
    }
}
