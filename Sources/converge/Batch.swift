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
            finishes one that was interrupted.

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

    @Option(name: [.customShort("m"), .customLong("model")], help: "A panelist's model spec (repeat for each).")
    var models: [String] = []

    @Option(help: "A named panel from the config file.")
    var panel: String?

    @Option(name: .customLong("follow-up"), help: "A follow-up prompt for every survey (repeatable).")
    var followUps: [String] = []

    @Option(help: "Answers drawn from each panelist per turn.")
    var samples = 1

    @Option(help: "A system prompt for every panelist.")
    var system: String?

    @Option(help: "Sampling temperature.")
    var temperature: Double?

    @Option(name: .customLong("max-tokens"), help: "Most tokens each answer may have.")
    var maxTokens: Int?

    @Option(help: "Rubric YAML for every prompt without its own (JSONL `rubric`).")
    var rubric: String?

    @Option(help: "Per-request timeout in seconds.")
    var timeout: Double?

    @Option(help: "Most requests in flight, overall and for each provider.")
    var concurrency: Int?

    @Option(help: "Configuration file (default: ./converge.yaml, then $XDG_CONFIG_HOME/converge/converge.yaml).")
    var config: String?

    @Flag(help: "No progress on standard error.")
    var quiet = false

    @Flag(name: .customLong("no-cache"), help: "Send every request, even one whose answer is already stored.")
    var noCache = false

    @OptionGroup var storage: StoreOptions
    @OptionGroup var report: BatchReportOptions
    @OptionGroup var matching: SimilarityOptions
    @OptionGroup var judging: JudgeOptions

    func validate() throws {
        if fromFolders.isEmpty {
            guard file != nil else { throw ValidationError("give a batch FILE, or --from-folders DIR...") }
            if models.isEmpty && panel == nil { throw ValidationError("give at least one -m SPEC or --panel NAME") }
        } else if file != nil || !models.isEmpty || panel != nil || !followUps.isEmpty || judging.spec != nil {
            throw ValidationError("--from-folders imports answers: no FILE, -m, --panel, --follow-up or --judge")
        }
        do {
            try request(prompt: "checked per item", panel: [], rubric: nil).validate()
        } catch {
            throw error.commandLineError
        }
    }

    func request(prompt: String, panel: [PanelEntry], rubric: SurveySpec.RubricSource?) -> SurveyPlan.Request {
        SurveyPlan.Request(prompt: prompt, followUps: followUps, system: system, panel: panel, samples: samples,
                           temperature: temperature, maxTokens: maxTokens, timeoutSeconds: timeout,
                           concurrency: concurrency, rubric: rubric, judge: judging.spec)
    }

    func run() async throws {
        if !fromFolders.isEmpty { return try await BatchImport(folders: fromFolders, rubric: rubric, quiet: quiet,
                                                               storage: storage, report: report, matching: matching,
                                                               config: config).run() }
        guard let file else { return }
        // Every item is read and checked before anything else: a bad line is exit 2 with its file:line.
        let items = try BatchInput.load(file)
        let configuration = try ConvergeConfig.load(explicitPath: config)
        let batchRubric = try rubric.map { SurveySpec.RubricSource(file: $0, yaml: try SurveyFolder.readText($0)) }
        _ = try batchRubric.map { try Rubric(yaml: $0.yaml, file: $0.file) }
        let similarity = try matching.model()
        try report.preflight()
        var entries: [PanelEntry] = []
        if let panel { entries += try configuration.panel(named: panel) }
        do {
            entries += try models.map { PanelEntry(spec: try ModelSpec(parsing: $0)) }
        } catch let error as ProviderError {
            throw InputError(field: "--model", error.description)
        }
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
            let execution = BatchExecution(store: store, analyzer: Analyzer(similarity: similarity), quiet: quiet,
                                           useCache: !noCache)
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
