import ArgumentParser
import ConvergeAnalysis
import ConvergeCore
import ConvergeProviders
import ConvergeRunner
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

    @Option(name: [.customShort("m"), .customLong("model")], help: "A panelist's model spec (repeat for each).")
    var models: [String] = []

    @Option(help: "A named panel from the config file (panels: {name: [spec, ...]}).")
    var panel: String?

    @Option(name: .customLong("follow-up"), help: "A follow-up prompt, sent to each panelist in its own thread (repeatable).")
    var followUps: [String] = []

    @Option(help: "Answers drawn from each panelist per turn.")
    var samples = 1

    @Option(help: "A system prompt for every panelist.")
    var system: String?

    @Option(help: "Sampling temperature.")
    var temperature: Double?

    @Option(name: .customLong("max-tokens"), help: "Most tokens each answer may have.")
    var maxTokens: Int?

    @Option(help: "Rubric YAML to check the last turn's answers against.")
    var rubric: String?

    @Option(help: "Per-request timeout in seconds.")
    var timeout: Double?

    @Option(help: "Most requests in flight, overall and for each provider (the config file may cap a provider lower).")
    var concurrency: Int?

    @Option(help: "Configuration file (default: ./converge.yaml, then $XDG_CONFIG_HOME/converge/converge.yaml).")
    var config: String?

    @Flag(help: "No progress on standard error.")
    var quiet = false

    @Flag(name: .customLong("no-cache"), help: "Send every request, even one whose answer is already stored.")
    var noCache = false

    @Flag(name: .customLong("no-store"), help: "Keep nothing: no database is opened (and no response cache).")
    var noStore = false

    @OptionGroup var storage: StoreOptions

    @OptionGroup var report: ReportOptions

    @OptionGroup var matching: SimilarityOptions

    func validate() throws {
        if noStore && storage.db != nil { throw ValidationError("--no-store and --db cannot be used together") }
        if models.isEmpty && panel == nil { throw ValidationError("give at least one -m SPEC or --panel NAME") }
        if samples < 1 { throw ValidationError("--samples must be at least 1") }
        if let concurrency, concurrency < 1 { throw ValidationError("--concurrency must be at least 1") }
        if let timeout, !(timeout > 0 && timeout <= 86_400) {
            throw ValidationError("--timeout must be a positive number of seconds, at most 86400")
        }
        if let maxTokens, maxTokens < 1 { throw ValidationError("--max-tokens must be at least 1") }
        if let temperature, !(temperature >= 0 && temperature <= 2) {
            throw ValidationError("--temperature must be a number from 0 to 2")
        }
        if prompt.trimmingWhitespace.isEmpty { throw ValidationError("the prompt is empty") }
        if followUps.contains(where: { $0.trimmingWhitespace.isEmpty }) { throw ValidationError("a follow-up is empty") }
    }

    func run() async throws {
        let configuration = try ConvergeConfig.load(explicitPath: config)
        let rubricValue = try rubric.map { try Rubric(yaml: SurveyFolder.readText($0), file: $0) }
        try report.checkOutput(against: rubric.map { [$0] } ?? [])
        let similarity = try matching.model()
        try report.preflight()  // before any request: answers are paid for
        var entries: [PanelEntry] = []
        if let panel { entries += try configuration.panel(named: panel) }
        do {
            entries += try models.map { PanelEntry(spec: try ModelSpec(parsing: $0)) }
        } catch let error as ProviderError {
            throw InputError(field: "--model", error.description)
        }
        let panelists = PanelEntry.panelists(for: entries)
        var members: [SurveyMember]
        do {
            // Resolves every provider and key before any request: a missing key fails here, naming its variable.
            members = try SurveyRunner.members(for: panelists, directory: ProviderDirectory(config: configuration))
        } catch {
            throw InputError(error.description)
        }
        for (i, entry) in entries.enumerated() {
            members[i].system = entry.system
            members[i].temperature = entry.temperature
        }

        var options = RunnerOptions(samples: samples)
        options.apply(configuration)
        if let concurrency {
            options.concurrency = concurrency
            options.perProviderConcurrency = concurrency
        } else {
            options.perProviderConcurrency = options.concurrency
        }
        if let timeout { options.timeout = .milliseconds(Int((timeout * 1000).rounded())) }
        options.parameters.temperature = temperature
        options.parameters.maxTokens = maxTokens

        let runner = try SurveyRunner(members: members, options: options)
        let survey = Survey(prompt: prompt, followUps: followUps, system: system)
        var execution = SurveyExecution(runner: runner, survey: survey, rubric: rubricValue,
                                        analyzer: Analyzer(similarity: similarity), report: report,
                                        quiet: quiet, stored: nil)
        if noStore {
            try await execution.run()
            return
        }
        let rubricSource = try rubric.map { SurveySpec.RubricSource(file: $0, yaml: try SurveyFolder.readText($0)) }
        let spec = SurveySpec(members: members, survey: survey, options: options, rubric: rubricSource)
        try await storage.withStore(creating: true) { store in
            let archive = SurveyArchive(store: store)
            let id = try await archive.create(survey, spec: spec)
            _ = try await store.claim(surveyID: id, owner: SurveyOwner.current, expected: nil)
            FileHandle.standardError.write(Data("converge: survey \(id) (\(store.location))\n".utf8))
            execution.stored = (archive, id, StoreJournal(store: store, surveyID: id, useCache: !noCache))
            try await execution.run()
        }
    }
}
