import ConvergeCore
import ConvergeJudge
import ConvergeProviders
import Logging

/// A survey ready to be asked: checked, its providers and keys resolved, its runner options and stored spec
/// worked out. The one place where `converge ask`, `surveys resume`, `follow-up` and the server's
/// `POST /v1/surveys`, start form and resumes turn what was asked for into what is run; new front ends (batch,
/// MCP) plan through it too.
///
/// Nothing is stored or sent while planning. Each front end maps a ``SurveyPlanError`` once, in its own words
/// (the CLI: exit status 2 and a message naming the flag; the API: 400 or 422 naming the field; the form: the
/// field's label).
public struct SurveyPlan: Sendable {
    /// What a front end asks for, before any check. Settings left `nil` take the config file's, then the
    /// defaults of ``RunnerOptions``.
    public struct Request: Sendable {
        public var prompt: String
        public var followUps: [String]
        /// The system prompt of every thread (a panel entry's own `system` wins for its panelist).
        public var system: String?
        /// The panel in order; ids and labels are made unique as ``PanelEntry/panelists(for:)`` does.
        public var panel: [PanelEntry]
        /// Answers drawn from each panelist per turn, at least 1.
        public var samples: Int
        /// Sampling temperature, in ``RequestLimits/temperature``.
        public var temperature: Double?
        /// Most tokens per answer, at least 1.
        public var maxTokens: Int?
        /// Per-request timeout in seconds, above 0 and at most ``RequestLimits/maxTimeoutSeconds``.
        public var timeoutSeconds: Double?
        /// Most requests in flight, overall and to each provider, at least 1.
        public var concurrency: Int?
        /// The rubric as given (parsed while planning).
        public var rubric: SurveySpec.RubricSource?
        /// Whether the survey's reports are shown blind.
        public var blind: Bool?
        /// A judge model spec (`provider/model`): asked once the panel has answered.
        public var judge: String?
        /// How the survey's answers are matched (``SurveySpec/similarity``); `nil`: the analysing front end's default.
        public var similarity: String?

        public init(prompt: String, followUps: [String] = [], system: String? = nil, panel: [PanelEntry],
                    samples: Int = 1, temperature: Double? = nil, maxTokens: Int? = nil,
                    timeoutSeconds: Double? = nil, concurrency: Int? = nil, rubric: SurveySpec.RubricSource? = nil,
                    blind: Bool? = nil, judge: String? = nil, similarity: String? = nil) {
            self.prompt = prompt
            self.followUps = followUps
            self.system = system
            self.panel = panel
            self.samples = samples
            self.temperature = temperature
            self.maxTokens = maxTokens
            self.timeoutSeconds = timeoutSeconds
            self.concurrency = concurrency
            self.rubric = rubric
            self.blind = blind
            self.judge = judge
            self.similarity = similarity
        }

        /// Checks the settings, the prompt, the follow-ups and each panel entry's temperature, in that order:
        /// what needs no config file, provider or key.
        /// - Throws: ``SurveyPlanError/outOfRange(_:)``, ``SurveyPlanError/blankPrompt``,
        ///   ``SurveyPlanError/blankFollowUp(_:)``.
        public func validate() throws(SurveyPlanError) {
            try SurveyPlan.validate(samples: samples, concurrency: concurrency, timeoutSeconds: timeoutSeconds,
                                    maxTokens: maxTokens, temperature: temperature)
            if prompt.trimmingWhitespace.isEmpty { throw .blankPrompt }
            if let n = followUps.firstIndex(where: { $0.trimmingWhitespace.isEmpty }) { throw .blankFollowUp(n) }
            for (n, entry) in panel.enumerated() {
                if let temperature = entry.temperature, !RequestLimits.temperature.contains(temperature) {
                    throw .outOfRange(.panelistTemperature(n))
                }
            }
        }
    }

    /// The settings a survey can have, each named where it is out of range.
    public enum Setting: Sendable, Hashable {
        case samples, concurrency, timeout, maxTokens, temperature
        /// Panel entry `n`'s (0-based) own temperature.
        case panelistTemperature(Int)
    }

    public var survey: Survey
    /// What the store keeps to resume or continue the survey (keys are never in it).
    public var spec: SurveySpec
    /// The panel with its clients, in panel order.
    public var members: [SurveyMember]
    public var options: RunnerOptions
    /// The parsed rubric, if any.
    public var rubric: Rubric?
    /// The judge, its provider resolved, when the survey has one (``SurveySpec/judge``).
    public var judge: Judge?

    /// Plans a new survey: checks `request` (``Request/validate()``), resolves every panel entry's provider and
    /// key through `directory`, parses the rubric, and takes `config`'s `concurrency`, `timeout` and
    /// `max_attempts` where `request` leaves them unset. `concurrency` caps each provider too.
    ///
    /// - Throws: ``SurveyPlanError``: a setting out of range, a blank prompt or follow-up, an empty panel, a
    ///   provider that is unknown or lacks its key (with the panel entry's index), a rubric that does not parse.
    public init(_ request: Request, directory: ProviderDirectory,
                config: ConvergeConfig = ConvergeConfig()) throws(SurveyPlanError) {
        try request.validate()
        guard !request.panel.isEmpty else { throw .emptyPanel }
        // Every provider and key before anything is stored; the message names the variable, never a value.
        for (n, entry) in request.panel.enumerated() {
            do {
                _ = try directory.endpoint(for: entry.spec.provider)
            } catch {
                throw .provider(error, panelIndex: n)
            }
        }
        let rubric = try Self.parse(request.rubric)
        let judge = try Self.judge(request.judge, directory: directory, maxAttempts: config.maxAttempts)
        var members: [SurveyMember]
        do {
            members = try SurveyRunner.members(for: PanelEntry.panelists(for: request.panel), directory: directory)
        } catch {
            throw .provider(error, panelIndex: nil)
        }
        for (i, entry) in request.panel.enumerated() {
            members[i].system = entry.system
            members[i].temperature = entry.temperature
        }
        var options = RunnerOptions(samples: request.samples)
        options.apply(config)
        if let concurrency = request.concurrency { options.concurrency = concurrency }
        options.perProviderConcurrency = options.concurrency
        if let seconds = request.timeoutSeconds { options.timeout = Self.duration(seconds: seconds) }
        options.parameters.temperature = request.temperature
        options.parameters.maxTokens = request.maxTokens
        let survey = Survey(prompt: request.prompt, followUps: request.followUps, system: request.system)
        var spec = SurveySpec(members: members, survey: survey, options: options, rubric: request.rubric)
        spec.blind = request.blind
        spec.judge = judge?.spec
        spec.similarity = request.similarity
        self.init(survey: survey, spec: spec, members: members, options: options, rubric: rubric)
        self.judge = judge
    }

    /// Plans the rest of a stored survey (resume, or after a follow-up): its stored panel resolved through
    /// `directory` again (keys are never stored), its stored settings, and these overrides where given.
    ///
    /// - Parameters:
    ///   - concurrency: instead of the stored concurrency (overall and per provider), at least 1.
    ///   - timeoutSeconds: instead of the stored timeout, above 0 and at most ``RequestLimits/maxTimeoutSeconds``.
    ///   - maxAttempts: the retry policy's attempts (the config file's `max_attempts`), at least 1 when given.
    /// - Throws: ``SurveyPlanError/outOfRange(_:)`` for an override, ``SurveyPlanError/provider(_:panelIndex:)``
    ///   (a provider now unknown, a key now missing), ``SurveyPlanError/rubric(_:)`` when the stored rubric no
    ///   longer parses.
    public init(resuming spec: SurveySpec, survey: Survey, directory: ProviderDirectory, concurrency: Int? = nil,
                timeoutSeconds: Double? = nil, maxAttempts: Int? = nil) throws(SurveyPlanError) {
        try Self.validate(concurrency: concurrency, timeoutSeconds: timeoutSeconds)
        let members: [SurveyMember]
        do {
            members = try spec.members(directory: directory)
        } catch {
            throw .provider(error, panelIndex: nil)
        }
        var options = spec.options()
        if let concurrency {
            options.concurrency = concurrency
            options.perProviderConcurrency = concurrency
        }
        if let timeoutSeconds { options.timeout = Self.duration(seconds: timeoutSeconds) }
        if let maxAttempts { options.retry.maxAttempts = max(1, maxAttempts) }
        self.init(survey: survey, spec: spec, members: members, options: options, rubric: try Self.parse(spec.rubric))
        judge = try Self.judge(spec.judge, directory: directory, maxAttempts: maxAttempts)
    }

    public init(survey: Survey, spec: SurveySpec, members: [SurveyMember], options: RunnerOptions, rubric: Rubric?) {
        self.survey = survey
        self.spec = spec
        self.members = members
        self.options = options
        self.rubric = rubric
    }

    /// The runner for this plan.
    /// - Throws: `InputError` as ``SurveyRunner/init(members:options:logger:)`` does (two panelists with one id).
    public func runner(logger: Logger = Logger(label: "converge.runner")) throws -> SurveyRunner {
        try SurveyRunner(members: members, options: options, logger: logger)
    }

    /// Checks the settings given (`nil` is not checked), in this order: samples at least 1, concurrency at least
    /// 1, a timeout above 0 and at most ``RequestLimits/maxTimeoutSeconds`` seconds, max tokens at least 1, a
    /// temperature in ``RequestLimits/temperature``. NaN is out of every range.
    /// - Throws: ``SurveyPlanError/outOfRange(_:)`` naming the first setting out of range.
    public static func validate(samples: Int? = nil, concurrency: Int? = nil, timeoutSeconds: Double? = nil,
                                maxTokens: Int? = nil, temperature: Double? = nil) throws(SurveyPlanError) {
        if let samples, samples < 1 { throw .outOfRange(.samples) }
        if let concurrency, concurrency < 1 { throw .outOfRange(.concurrency) }
        if let timeoutSeconds, !RequestLimits.isTimeout(timeoutSeconds) { throw .outOfRange(.timeout) }
        if let maxTokens, maxTokens < 1 { throw .outOfRange(.maxTokens) }
        if let temperature, !RequestLimits.temperature.contains(temperature) { throw .outOfRange(.temperature) }
    }

    static func parse(_ source: SurveySpec.RubricSource?) throws(SurveyPlanError) -> Rubric? {
        guard let source else { return nil }
        do {
            return try Rubric(yaml: source.yaml, file: source.file)
        } catch let error as InputError {
            throw .rubric(error)
        } catch {
            throw .rubric(InputError(file: source.file, "the rubric could not be read"))
        }
    }

    static func duration(seconds: Double) -> Duration { .milliseconds(Int((seconds * 1000).rounded())) }

    /// A rubric that the model `spec` drafts from `prompt` alone, before any answer is seen (`RubricDrafter`), as
    /// the survey's rubric source (canonical YAML, named after the model): what `ask --draft-rubric`, the API's
    /// `draftRubric` and the start page use. One model request, or two after a repair.
    /// - Throws: ``SurveyPlanError/rubricDrafter(_:)`` for a spec that does not parse, an unknown provider or a
    ///   missing key (before any request); ``SurveyPlanError/rubricNotDrafted(model:reason:)`` when the model
    ///   failed or gave no valid rubric twice.
    public static func draftRubric(with spec: String, prompt: String, directory: ProviderDirectory,
                                   timeout: Duration = .seconds(300),
                                   maxAttempts: Int? = nil) async throws(SurveyPlanError) -> SurveySpec.RubricSource {
        var client: ModelClient
        do {
            client = try ModelClient(resolving: spec, directory: directory, maxAttempts: maxAttempts)
        } catch {
            throw .rubricDrafter(error)
        }
        client.timeout = timeout
        let rubric: Rubric
        do {
            rubric = try await RubricDrafter(client: client).draft(prompt: prompt).rubric
        } catch {
            throw .rubricNotDrafted(model: client.spec, reason: error.description)
        }
        do {
            return SurveySpec.RubricSource(file: "rubric drafted by \(client.spec)", yaml: try rubric.yamlText())
        } catch {
            throw .rubricNotDrafted(model: client.spec, reason: "its rubric could not be written as YAML: \(error)")
        }
    }

    /// The judge of `spec`, its provider and key resolved through `directory`; `nil` without a spec.
    /// - Throws: ``SurveyPlanError/judge(_:)`` for a spec that does not parse, an unknown provider, a missing key.
    public static func judge(_ spec: String?, directory: ProviderDirectory,
                             maxAttempts: Int? = nil) throws(SurveyPlanError) -> Judge? {
        guard let spec else { return nil }
        do {
            return Judge(client: try ModelClient(resolving: spec, directory: directory, maxAttempts: maxAttempts))
        } catch {
            throw .judge(error)
        }
    }
}

/// What is wrong with a survey that was asked for; nothing has been stored or sent. Each front end words it
/// once (see ``SurveyPlan``).
public enum SurveyPlanError: Error, Sendable, Equatable {
    /// A setting outside its range (``SurveyPlan/validate(samples:concurrency:timeoutSeconds:maxTokens:temperature:)``).
    case outOfRange(SurveyPlan.Setting)
    /// The prompt is empty or only white space.
    case blankPrompt
    /// Follow-up `n` (0-based) is empty or only white space.
    case blankFollowUp(Int)
    /// No panelist at all.
    case emptyPanel
    /// A provider that is unknown, misconfigured or lacks its key; `panelIndex` is the panel entry (0-based)
    /// when the error is about one entry.
    case provider(ProviderError, panelIndex: Int?)
    /// The rubric's YAML is not a rubric (the error names its file, line and field).
    case rubric(InputError)
    /// The judge's spec does not parse, or its provider is unknown or lacks its key.
    case judge(ProviderError)
    /// The rubric drafter's spec does not parse, or its provider is unknown or lacks its key.
    case rubricDrafter(ProviderError)
    /// The rubric drafter failed or gave no valid rubric twice (``SurveyPlan/draftRubric(with:prompt:directory:timeout:)``).
    case rubricNotDrafted(model: String, reason: String)
}
