import ConvergeCore
import ConvergeProviders
import ConvergeRunner

/// A `POST /v1/surveys` request (and the start form, which builds one) checked against openapi.yaml's
/// constraints, then planned as every front end plans a survey (``SurveyPlan``, in ConvergeRunner): keys from
/// the server's environment; `timeout`, `concurrency` and `max_attempts` from the config file, as `ask` takes
/// them.
extension SurveyPlan {
    static let maxPanel = 50
    static let maxFollowUps = 20
    static let maxText = 100_000
    static let maxName = 200

    /// The request's `similarity` is kept in the spec (``SurveySpec/similarity``); whether the server can offer it
    /// is checked by `POST /v1/surveys` (`AnalysisService.similarity(named:)`).
    ///
    /// - Throws: `APIError` 400 (`invalid_field`) naming the field for a constraint of the schema; 422
    ///   (`unprocessable`) naming the field for a blank prompt, rubric YAML that is not a rubric, an unknown
    ///   provider, or a provider whose key is not in the server's environment. Nothing is stored either way.
    /// - Parameter drafted: a drafted rubric (``planned(_:directory:config:)``), used instead of `request.rubric`.
    init(_ request: Components.Schemas.SurveyRequest, directory: ProviderDirectory,
         config: ConvergeConfig = ConvergeConfig(), drafted: SurveySpec.RubricSource? = nil) throws(APIError) {
        try Self.checkPrompt(request.prompt, at: "prompt")
        guard (1...Self.maxPanel).contains(request.panel.count) else {
            throw .invalidField("panel", "must hold 1 to \(Self.maxPanel) members, not \(request.panel.count)")
        }
        let followUps = request.followUps ?? []
        guard followUps.count <= Self.maxFollowUps else {
            throw .invalidField("followUps", "must hold at most \(Self.maxFollowUps) prompts")
        }
        for (n, followUp) in followUps.enumerated() { try Self.checkPrompt(followUp, at: "followUps[\(n)]") }
        let samples = request.samples ?? 1
        guard (1...10).contains(samples) else { throw .invalidField("samples", "must be from 1 to 10") }
        if let maxTokens = request.maxTokens, !(1...1_000_000).contains(maxTokens) {
            throw .invalidField("maxTokens", "must be from 1 to 1000000")
        }
        if let system = request.system { try Self.checkLength(system, at: "system", max: Self.maxText) }

        var entries: [PanelEntry] = []
        for (n, member) in request.panel.enumerated() {
            let path = "panel[\(n)]"
            switch member {
            case .ModelSpec(let text):
                entries.append(PanelEntry(spec: try Self.modelSpec(text, at: path)))
            case .PanelMemberOptions(let options):
                var entry = PanelEntry(spec: try Self.modelSpec(options.model, at: "\(path).model"))
                if let id = options.id {
                    try Self.checkLength(id, at: "\(path).id", min: 1, max: Self.maxName)
                    guard !Self.hasSpace(id) else { throw .invalidField("\(path).id", "must not contain white space") }
                    entry.id = id
                }
                if let label = options.label {
                    try Self.checkLength(label, at: "\(path).label", min: 1, max: Self.maxName)
                    entry.label = label
                }
                entry.temperature = options.temperature
                if let system = options.system {
                    try Self.checkLength(system, at: "\(path).system", max: Self.maxText)
                    entry.system = system
                }
                entries.append(entry)
            }
        }
        if let yaml = request.rubric, yaml.isEmpty { throw .invalidField("rubric", "must not be empty") }
        let planned = Request(prompt: request.prompt, followUps: followUps, system: request.system, panel: entries,
                              samples: samples, temperature: request.temperature, maxTokens: request.maxTokens,
                              rubric: drafted ?? request.rubric.map { SurveySpec.RubricSource(file: "rubric", yaml: $0) },
                              blind: request.blind, judge: request.judge, similarity: request.similarity?.rawValue)
        do {
            try self.init(planned, directory: directory, config: config)
        } catch {
            throw APIError(error)
        }
    }

    /// The request planned as ``init(_:directory:config:drafted:)`` plans it, with its rubric drafted first when it
    /// names a `draftRubric` model: every other check comes before the draft, so that nothing is paid for a survey
    /// that cannot run.
    /// - Throws: `APIError` as the initialiser; 400 naming `draftRubric` for a bad spec; 422 naming it with
    ///   `rubric` too, for an unknown provider, a missing key, or a model that drafted no valid rubric.
    static func planned(_ request: Components.Schemas.SurveyRequest, directory: ProviderDirectory,
                        config: ConvergeConfig = ConvergeConfig()) async throws(APIError) -> SurveyPlan {
        guard let drafter = request.draftRubric else { return try SurveyPlan(request, directory: directory, config: config) }
        // Schema-valid, so not a 400: both are allowed by the schema, and together they contradict each other.
        if request.rubric != nil { throw .unprocessable("draftRubric", "draftRubric: give a rubric or draftRubric, not both") }
        _ = try SurveyPlan(request, directory: directory, config: config)
        let drafted: SurveySpec.RubricSource
        do {
            drafted = try await SurveyPlan.draftRubric(with: drafter, prompt: request.prompt, directory: directory,
                                                       maxAttempts: config.maxAttempts)
        } catch {
            throw APIError(error)
        }
        return try SurveyPlan(request, directory: directory, config: config, drafted: drafted)
    }

    /// A prompt: 1 to 100000 characters (400), not only white space (422).
    static func checkPrompt(_ text: String, at field: String) throws(APIError) {
        try checkLength(text, at: field, min: 1, max: maxText)
        if text.trimmingWhitespace.isEmpty { throw .unprocessable(field, "\(field): the prompt is blank") }
    }

    /// Lengths count Unicode scalars, as JSON Schema does (400). NUL (U+0000) is refused (422): no database keeps
    /// it in text (SQLite reads up to it, PostgreSQL refuses it), so what is stored would differ from what was sent.
    static func checkLength(_ text: String, at field: String, min: Int = 0, max: Int) throws(APIError) {
        let length = text.unicodeScalars.count
        guard length >= min else { throw .invalidField(field, "must not be empty") }
        guard length <= max else { throw .invalidField(field, "must be at most \(max) characters") }
        // 422, not 400: the schema allows NUL (JSON does); it is this server that cannot keep it.
        guard !text.unicodeScalars.contains("\u{0}") else {
            throw .unprocessable(field, "\(field): must not contain the NUL character (U+0000)")
        }
    }

    /// White space as the schema's `\s` means it (Unicode White_Space and the separators U+001C...U+001F).
    static func hasSpace(_ text: String) -> Bool {
        text.unicodeScalars.contains { $0.properties.isWhitespace || (0x1C...0x1F).contains($0.value) }
    }

    /// `provider/model` as the schema's `ModelSpec` states it (400), then parsed (422 when it still is not one).
    static func modelSpec(_ text: String, at field: String) throws(APIError) -> ModelSpec {
        try checkLength(text, at: field, min: 3, max: maxName)
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard !hasSpace(text), parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw .invalidField(field, "must be a model spec provider/model (openai/gpt-4o), without spaces")
        }
        do {
            return try ModelSpec(parsing: text)
        } catch {
            throw .unprocessable(field, "\(field): \(error.description)")
        }
    }
}

extension APIError {
    /// A survey plan's error as the API answers it, mapped once for `POST /v1/surveys`, the start form (which
    /// words it again by field, `Pages.formMessage`), follow-ups and resumes: a setting out of range 400
    /// (`invalid_field`); a blank prompt, an unknown provider, a missing key or a rubric that is not one 422
    /// (`unprocessable`), each naming the field.
    init(_ error: SurveyPlanError) {
        switch error {
        case .outOfRange(.temperature):
            self = .invalidField("temperature", "must be \(RequestLimits.temperatureInWords)")
        case .outOfRange(.panelistTemperature(let n)):
            self = .invalidField("panel[\(n)].temperature", "must be \(RequestLimits.temperatureInWords)")
        case .outOfRange(.samples): self = .invalidField("samples", "must be at least 1")
        case .outOfRange(.maxTokens): self = .invalidField("maxTokens", "must be at least 1")
        case .outOfRange(.concurrency): self = .invalidField("concurrency", "must be at least 1")
        case .outOfRange(.timeout):
            self = .invalidField("timeout", "must be a positive number of seconds, \(RequestLimits.maxTimeoutInWords)")
        case .blankPrompt: self = .unprocessable("prompt", "prompt: the prompt is blank")
        case .blankFollowUp(let n): self = .unprocessable("followUps[\(n)]", "followUps[\(n)]: the prompt is blank")
        case .emptyPanel: self = .invalidField("panel", "must hold 1 to \(SurveyPlan.maxPanel) members, not 0")
        case .provider(let error, let n?): self = .unprocessable("panel[\(n)]", "panel[\(n)]: \(error.description)")
        case .provider(let error, nil): self = .unprocessable("panel", "panel: \(error.description)")
        case .rubric(let error):
            self = .unprocessable(error.field.map { "rubric.\($0)" } ?? "rubric", "rubric YAML: \(error.description)")
        case .judge(let error):
            if case .invalidModelSpec = error {
                self = .invalidField("judge", error.description)
            } else {
                self = .unprocessable("judge", "judge: \(error.description)")
            }
        case .rubricDrafter(let error):
            if case .invalidModelSpec = error {
                self = .invalidField("draftRubric", error.description)
            } else {
                self = .unprocessable("draftRubric", "draftRubric: \(error.description)")
            }
        case .rubricNotDrafted(let model, let reason):
            self = .unprocessable("draftRubric", "draftRubric: \(model) drafted no rubric: \(reason)")
        }
    }
}
