import ArgumentParser
import ConvergeAnalysis
import ConvergeCore
import ConvergeProviders
import ConvergeRunner
import ConvergeStore
import Foundation

/// `converge batch FILE`: one stored survey per prompt of a batch file, asked of one panel, then the batch
/// report; `converge batch --from-folders DIR...`: a batch of answer folders, analysed, no model called.
struct Batch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Ask a panel many prompts (one stored survey each) and report across them.",
        discussion: """
            FILE is JSONL (one {"id", "prompt", "rubric"?} object a line; rubric: a YAML file relative to FILE), \
            CSV (a header row naming id and prompt; RFC 4180 quoting) or a folder of prompt files (*.md, *.txt; \
            the file stem is the id). Every prompt is checked and every survey planned before any request: a bad \
            line fails with its file:line and exit status 2.

            The surveys are asked one after another, each as `converge ask` asks it (the response cache applies \
            across the batch); the batch's id is printed on standard error, and `converge batches resume ID` \
            finishes one that was interrupted. With --queue (PostgreSQL) every thread is queued at once for \
            `converge worker` processes, and this process only follows them, then reports.

            --from-folders DIR... imports answer folders instead (each DIR a survey folder as `converge analyze` \
            reads it, or a folder of such folders): each is analysed and stored as a survey of a new batch.

            Exit status: 0 every panelist answered every prompt; 3 some failed; 4 all failed; 2 usage or input \
            error; 5 database error; 130 interrupted.
            """
    )

    @Argument(help: "The batch file (JSONL or CSV) or a folder of prompt files.")
    var file: String?

    @Option(name: .customLong("from-folders"), parsing: .upToNextOption,
            help: "Import these answer folders (or folders of them) as a batch; no model is called.")
    var fromFolders: [String] = []

    @OptionGroup var asking: PanelOptions

    @Option(help: "Rubric YAML for every prompt without its own (JSONL `rubric`).")
    var rubric: String?

    @OptionGroup var storage: StoreOptions
    @OptionGroup var report: BatchReportOptions
    @OptionGroup var matching: SimilarityOptions
    @OptionGroup var judging: JudgeOptions

    func validate() throws {
        if fromFolders.isEmpty {
            guard file != nil else { throw ValidationError("give a batch FILE, or --from-folders DIR...") }
            try asking.requirePanel()
        } else if file != nil || !asking.models.isEmpty || asking.panel != nil || !asking.followUps.isEmpty || judging.spec != nil
                    || asking.queue {
            throw ValidationError("--from-folders imports answers: no FILE, -m, --panel, --follow-up, --judge or --queue")
        }
        do {
            try request(prompt: "checked per item", panel: [], rubric: nil).validate()
        } catch {
            throw error.commandLineError
        }
    }

    func request(prompt: String, panel: [PanelEntry], rubric: SurveySpec.RubricSource?) -> SurveyPlan.Request {
        asking.request(prompt: prompt, panel: panel, rubric: rubric, judge: judging.spec, similarity: matching.similarity)
    }

    func run() async throws {
        if !fromFolders.isEmpty { return try await BatchImport(folders: fromFolders, rubric: rubric, quiet: asking.quiet,
                                                               storage: storage, report: report, matching: matching,
                                                               config: asking.config).run() }
        guard let file else { return }
        // Every item is read and checked before anything else: a bad line is exit 2 with its file:line.
        let items = try BatchInput.load(file)
        try asking.checkQueue(storage)
        let configuration = try ConvergeConfig.load(explicitPath: asking.config)
        let batchRubric = try rubric.map { SurveySpec.RubricSource(file: $0, yaml: try SurveyFolder.readText($0)) }
        _ = try batchRubric.map { try Rubric(yaml: $0.yaml, file: $0.file) }
        let similarity = try matching.model()
        try report.preflight()
        let entries = try asking.entries(configuration: configuration)
        // Every survey planned (providers and keys resolved) before anything is stored or sent.
        var plans: [(item: BatchItem, plan: SurveyPlan)] = []
        let directory = ProviderDirectory(config: configuration)
        for item in items {
            do {
                plans.append((item, try SurveyPlan(request(prompt: item.prompt, panel: entries, rubric: item.rubric ?? batchRubric),
                                                   directory: directory, config: configuration)))
            } catch {
                throw error.commandLineError
            }
        }
        try await storage.withStore(creating: true) { store in
            let archive = SurveyArchive(store: store)
            var planned: [BatchExecution.Planned] = []
            for (item, plan) in plans {
                let id = try await archive.create(plan.survey, spec: plan.spec)
                planned.append(BatchExecution.Planned(itemID: item.id, surveyID: id, plan: plan,
                                                      judge: judging.tuned(plan.judge), owner: nil))
            }
            let batch = StoredBatch(id: StoredSurvey.newID(), source: file,
                                    spec: BatchReporting.Spec(kind: "ask", sources: [file]).encoded(),
                                    items: planned.enumerated().map {
                                        StoredBatch.Item(index: $0.offset, itemID: $0.element.itemID, surveyID: $0.element.surveyID)
                                    })
            try await store.createBatch(batch)
            FileHandle.standardError.write(Data("converge: batch \(batch.id): \(items.count) prompts (\(store.location))\n".utf8))
            let execution = BatchExecution(store: store, analyzer: Analyzer(similarity: similarity), quiet: asking.quiet,
                                           useCache: !asking.noCache, queue: try asking.queue ? workQueue(store) : nil)
            let outcome = try await execution.run(planned, batchID: batch.id, total: planned.count)
            try await Self.finish(batch, outcome: outcome, store: store, configuration: configuration, report: report)
        }
    }

    /// Writes the batch report, then exits as the statuses say: 5 when the store missed something,
    /// 4 when no panelist answered anything, 3 when some request failed.
    static func finish(_ batch: StoredBatch, outcome: (failures: Int, storeError: StoreError?), store: any SurveyStore,
                       configuration: ConvergeConfig, report options: BatchReportOptions) async throws {
        let report = try await BatchReporting.report(batch, store: store, configuration: configuration)
        try BatchReporting.emit(report, format: options.format, output: options.output)
        if let error = outcome.storeError {
            FileHandle.standardError.write(Data("converge: error: not everything was stored: \(error)\n".utf8))
            throw ExitCode(5)
        }
        if report.panelists.allSatisfy({ $0.answered == 0 }) { throw ExitCode(4) }
        if outcome.failures > 0 { throw ExitCode(3) }
    }
}
