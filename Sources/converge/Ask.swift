import ArgumentParser
import ConvergeAnalysis
import ConvergeCore
import ConvergeJudge
import ConvergeProviders
import ConvergeRunner
import ConvergeStore
import Foundation

/// `converge ask`: put one prompt (and follow-ups) to a live panel, then report as `analyze` does.
struct Ask: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Ask a live panel of models one prompt, with follow-ups, and consolidate the answers.",
        discussion: """
            Models are given as provider/model specs (openai/gpt-4o, anthropic/claude-sonnet-4-5, \
            gemini/gemini-2.5-pro, ollama/llama3.2, openrouter/..., or a provider named in converge.yaml). \
            Keys come from the environment only (OPENAI_API_KEY, ANTHROPIC_API_KEY, GEMINI_API_KEY, \
            OPENROUTER_API_KEY); base URLs from OPENAI_BASE_URL, ANTHROPIC_BASE_URL, GEMINI_BASE_URL, \
            OPENROUTER_BASE_URL, OLLAMA_HOST or the config file.

            Every survey is stored (see --db) before the first request: its id is printed on standard error, \
            `converge surveys resume ID` finishes one that was interrupted, and an identical request asked \
            again is answered from the store without a network call (unless --no-cache).

            Exit status: 0 every panelist answered; 3 some failed (the report lists each failure and its \
            cause); 4 all failed; 2 usage or configuration error; 5 database error; 130 interrupted.
            """
    )

    @Argument(help: "The prompt.")
    var prompt: String

    @OptionGroup var asking: PanelOptions

    @Option(help: "Rubric YAML to check the last turn's answers against.")
    var rubric: String?

    @Flag(name: .customLong("no-store"), help: "Keep nothing: no database is opened (and no response cache).")
    var noStore = false

    @OptionGroup var storage: StoreOptions

    @OptionGroup var report: ReportOptions

    @OptionGroup var matching: SimilarityOptions

    @OptionGroup var judging: JudgeOptions

    @Option(name: .customLong("draft-rubric"), help: ArgumentHelp("""
        Have this model write a rubric from the prompt alone first (as `converge rubric draft` does); the survey \
        is checked against it and keeps it.
        """, valueName: "MODEL_SPEC"))
    var draftRubric: String?

    func validate() throws {
        if noStore && storage.db != nil { throw ValidationError("--no-store and --db cannot be used together") }
        if noStore && asking.queue { throw ValidationError("--queue needs the store: not with --no-store") }
        if draftRubric != nil && rubric != nil { throw ValidationError("--draft-rubric and --rubric cannot be used together") }
        try asking.requirePanel()
        do {
            try request(panel: []).validate()
        } catch {
            throw error.commandLineError
        }
    }

    /// What was asked for, as every front end gives it to ``SurveyPlan`` (the panel is resolved in `run()`).
    func request(panel: [PanelEntry], rubric: SurveySpec.RubricSource? = nil) -> SurveyPlan.Request {
        // A chosen matching is kept with the survey: `reanalyze`, `surveys resume` and `follow-up` use it.
        asking.request(prompt: prompt, panel: panel, rubric: rubric, judge: judging.spec, similarity: matching.similarity)
    }

    func run() async throws {
        try asking.checkQueue(storage)
        let configuration = try ConvergeConfig.load(explicitPath: asking.config)
        var rubricSource = try rubric.map { SurveySpec.RubricSource(file: $0, yaml: try SurveyFolder.readText($0)) }
        if let draftRubric { rubricSource = try await drafted(by: draftRubric, configuration: configuration) }
        // A rubric that is not one fails before anything else is checked.
        _ = try rubricSource.map { try Rubric(yaml: $0.yaml, file: $0.file) }
        try report.checkOutput(against: rubric.map { [$0] } ?? [])
        let similarity = try matching.model()
        try report.preflight()  // before any request: answers are paid for
        let entries = try asking.entries(configuration: configuration)
        let plan: SurveyPlan
        do {
            // Resolves every provider and key before any request: a missing key fails here, naming its variable.
            plan = try SurveyPlan(request(panel: entries, rubric: rubricSource),
                                  directory: ProviderDirectory(config: configuration), config: configuration)
        } catch {
            throw error.commandLineError
        }
        var execution = SurveyExecution(runner: try plan.runner(), survey: plan.survey, rubric: plan.rubric,
                                        analyzer: Analyzer(similarity: similarity), report: report,
                                        quiet: asking.quiet, stored: nil)
        execution.judge = judging.tuned(plan.judge)
        if noStore {
            try await execution.run()
            return
        }
        try await storage.withStore(creating: true) { store in
            let archive = SurveyArchive(store: store)
            let id = try await archive.create(plan.survey, spec: plan.spec)
            _ = try await store.claim(surveyID: id, owner: SurveyOwner.current, expected: nil)
            FileHandle.standardError.write(Data("converge: survey \(id) (\(store.location))\n".utf8))
            execution.stored = (archive, id, StoreJournal(store: store, surveyID: id, useCache: !asking.noCache))
            if asking.queue {
                execution.queued = (try workQueue(store), QueueFollower.jobs(surveyID: id, plan: plan, useCache: !asking.noCache))
            }
            try await execution.run()
        }
    }
}

extension Ask {
    /// A rubric the model `spec` drafts from the prompt alone, as the survey's rubric source.
    /// - Throws: `InputError` naming `--draft-rubric` (exit 2: nothing was asked of the panel), as
    ///   ``SurveyPlan/draftRubric(with:prompt:directory:timeout:)`` fails.
    func drafted(by spec: String, configuration: ConvergeConfig) async throws -> SurveySpec.RubricSource {
        let source: SurveySpec.RubricSource
        do {
            source = try await SurveyPlan.draftRubric(with: spec, prompt: prompt, directory: ProviderDirectory(config: configuration),
                                                      maxAttempts: configuration.maxAttempts)
        } catch {
            throw error.commandLineError
        }
        if !asking.quiet, let rubric = try? Rubric(yaml: source.yaml, file: source.file) {
            FileHandle.standardError.write(Data("converge: \(spec) drafted a rubric of \(rubric.items.count) items\n".utf8))
        }
        return source
    }
}
