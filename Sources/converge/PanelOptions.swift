import ArgumentParser
import ConvergeCore
import ConvergeProviders
import ConvergeRunner
import ConvergeStore

/// Who is asked and how: the panel and the survey settings that `ask` and `batch` share (each prompt of a
/// batch is asked as `ask` asks one).
struct PanelOptions: ParsableArguments {
    @Option(name: [.customShort("m"), .customLong("model")], help: "A panelist's model spec (repeat for each).")
    var models: [String] = []

    @Option(help: "A named panel from the config file (panels: {name: [spec, ...]}).")
    var panel: String?

    @Option(name: .customLong("follow-up"),
            help: "A follow-up prompt, sent to each panelist in its own thread (repeatable; in a batch, after every prompt).")
    var followUps: [String] = []

    @Option(help: "Answers drawn from each panelist per turn.")
    var samples = 1

    @Option(help: "A system prompt for every panelist.")
    var system: String?

    @Option(help: "Sampling temperature.")
    var temperature: Double?

    @Option(name: .customLong("max-tokens"), help: "Most tokens each answer may have.")
    var maxTokens: Int?

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

    @Flag(help: "Only queue the requests for `converge worker` processes (PostgreSQL) and follow them, then report.")
    var queue = false

    /// - Throws: ``StoreError/queueNeedsPostgres(location:)`` (exit 2) when `--queue` is given with a SQLite database.
    func checkQueue(_ storage: StoreOptions) throws {
        guard queue else { return }
        let url = try storage.location()
        if case .sqlite = url { throw StoreError.queueNeedsPostgres(location: url.description) }
    }

    /// - Throws: `ValidationError` when neither `-m` nor `--panel` names a panelist.
    func requirePanel() throws {
        if models.isEmpty && panel == nil { throw ValidationError("give at least one -m SPEC or --panel NAME") }
    }

    /// The panel: the named panel's entries, then each `-m` spec.
    /// - Throws: `InputError` naming `--model` for a spec that does not parse; the config's error for an
    ///   unknown panel name.
    func entries(configuration: ConvergeConfig) throws -> [PanelEntry] {
        var entries: [PanelEntry] = []
        if let panel { entries += try configuration.panel(named: panel) }
        do {
            entries += try models.map { PanelEntry(spec: try ModelSpec(parsing: $0)) }
        } catch let error as ProviderError {
            throw InputError(field: "--model", error.description)
        }
        return entries
    }

    /// What was asked for, as every front end gives it to ``SurveyPlan``.
    func request(prompt: String, panel: [PanelEntry], rubric: SurveySpec.RubricSource?, judge: String?,
                 similarity: String?) -> SurveyPlan.Request {
        SurveyPlan.Request(prompt: prompt, followUps: followUps, system: system, panel: panel, samples: samples,
                           temperature: temperature, maxTokens: maxTokens, timeoutSeconds: timeout,
                           concurrency: concurrency, rubric: rubric, judge: judge, similarity: similarity)
    }
}
