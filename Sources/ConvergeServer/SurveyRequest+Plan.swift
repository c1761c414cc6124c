import ConvergeAPI
import ConvergeCore
import ConvergeProviders
import ConvergeRunner

/// A `POST /v1/surveys` request checked against openapi.yaml and resolved against the server's providers: the
/// survey, its stored spec, and the panel ready to be asked (keys from the server's environment; `timeout`,
/// `concurrency` and `max_attempts` from the config file, as `ask` takes them).
struct SurveyPlan: Sendable {
    var survey: Survey
    var spec: SurveySpec
    var members: [SurveyMember]
}

extension SurveyPlan {
    static let maxPanel = 50
    static let maxFollowUps = 20
    static let maxText = 100_000
    static let maxName = 200

    /// - Throws: `APIError` 400 (`invalid_field`) naming the field for a constraint of the schema; 422
    ///   (`unprocessable`) naming the field for a blank prompt, rubric YAML that is not a rubric, an unknown
    ///   provider, or a provider whose key is not in the server's environment. Nothing is stored either way.
    init(_ request: Components.Schemas.SurveyRequest, directory: ProviderDirectory,
         config: ConvergeConfig = ConvergeConfig()) throws(APIError) {
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
        if let temperature = request.temperature, !(0...2).contains(temperature) {
            throw .invalidField("temperature", "must be from 0 to 2")
        }
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
                if let temperature = options.temperature {
                    guard (0...2).contains(temperature) else {
                        throw .invalidField("\(path).temperature", "must be from 0 to 2")
                    }
                    entry.temperature = temperature
                }
                if let system = options.system {
                    try Self.checkLength(system, at: "\(path).system", max: Self.maxText)
                    entry.system = system
                }
                entries.append(entry)
            }
        }
        // Every provider and key before anything is stored; the message names the variable, never a value.
        for (n, entry) in entries.enumerated() {
            do {
                _ = try directory.endpoint(for: entry.spec.provider)
            } catch {
                throw .unprocessable("panel[\(n)]", "panel[\(n)]: \(error.description)")
            }
        }
        var rubric: SurveySpec.RubricSource?
        if let yaml = request.rubric {
            guard !yaml.isEmpty else { throw .invalidField("rubric", "must not be empty") }
            do {
                _ = try Rubric(yaml: yaml, file: "rubric")
            } catch let error as InputError {
                throw .unprocessable(error.field.map { "rubric.\($0)" } ?? "rubric", "rubric YAML: \(error.description)")
            } catch {
                throw .unprocessable("rubric", "rubric YAML could not be read")
            }
            rubric = SurveySpec.RubricSource(file: "rubric", yaml: yaml)
        }

        let panelists = PanelEntry.panelists(for: entries)
        var members: [SurveyMember]
        do {
            members = try SurveyRunner.members(for: panelists, directory: directory)
        } catch {
            throw .unprocessable("panel", "panel: \(error.description)")
        }
        for (i, entry) in entries.enumerated() {
            members[i].system = entry.system
            members[i].temperature = entry.temperature
        }
        var options = RunnerOptions(samples: samples)
        options.apply(config)
        options.perProviderConcurrency = options.concurrency
        options.parameters.temperature = request.temperature
        options.parameters.maxTokens = request.maxTokens
        let survey = Survey(prompt: request.prompt, followUps: followUps, system: request.system)
        var spec = SurveySpec(members: members, survey: survey, options: options, rubric: rubric)
        spec.blind = request.blind
        self.init(survey: survey, spec: spec, members: members)
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
