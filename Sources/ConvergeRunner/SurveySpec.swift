import ConvergeCore
import ConvergeProviders
import Foundation

/// What a stored survey needs to be resumed or continued: the panel as specs (keys are read from the
/// environment again, never stored), the settings and the rubric. Kept as JSON in the store.
public struct SurveySpec: Sendable, Hashable, Codable {
    /// One panelist: id, label, `provider/model` spec, and its own system prompt and temperature if any.
    public struct Member: Sendable, Hashable, Codable {
        public var id: String
        public var label: String
        public var model: String
        public var system: String?
        public var temperature: Double?

        public init(id: String, label: String, model: String, system: String? = nil, temperature: Double? = nil) {
            self.id = id
            self.label = label
            self.model = model
            self.system = system
            self.temperature = temperature
        }
    }

    /// A rubric as it was given: where it came from and its YAML text.
    public struct RubricSource: Sendable, Hashable, Codable {
        public var file: String
        public var yaml: String

        public init(file: String, yaml: String) {
            self.file = file
            self.yaml = yaml
        }
    }

    public var panel: [Member]
    public var system: String?
    public var samples: Int
    public var parameters: GenerationParameters
    /// Per-request timeout, seconds.
    public var timeoutSeconds: Double?
    public var concurrency: Int?
    public var rubric: RubricSource?
    /// Whether the survey's reports are shown blind (`AI 1`, `AI 2`, ...); `nil` (absent in older specs) = no.
    public var blind: Bool?
    /// The judge's model spec (`provider/model`), asked once the panel has answered, again on every resume;
    /// `nil` (absent in older specs): no judge.
    public var judge: String?
    /// How the survey's answers are matched (`lexical`, `embedding`, `hybrid`: a `POST /v1/surveys` request's
    /// `similarity` or `converge ask --similarity`, used by every later analysis of the survey: the server's,
    /// `reanalyze`, `surveys resume`, `follow-up`, unless one names another); `nil` (absent in older specs, or
    /// no choice made): the analysing front end's default.
    public var similarity: String?

    public init(panel: [Member], system: String? = nil, samples: Int = 1, parameters: GenerationParameters = .init(),
                timeoutSeconds: Double? = nil, concurrency: Int? = nil, rubric: RubricSource? = nil) {
        self.panel = panel
        self.system = system
        self.samples = samples
        self.parameters = parameters
        self.timeoutSeconds = timeoutSeconds
        self.concurrency = concurrency
        self.rubric = rubric
    }

    /// The spec of a panel about to be asked.
    public init(members: [SurveyMember], survey: Survey, options: RunnerOptions, rubric: RubricSource?) {
        self.init(panel: members.map {
            Member(id: $0.panelist.id, label: $0.panelist.label, model: $0.panelist.model ?? $0.model,
                   system: $0.system, temperature: $0.temperature)
        }, system: survey.system, samples: options.samples, parameters: options.parameters,
           timeoutSeconds: Self.seconds(options.timeout), concurrency: options.concurrency, rubric: rubric)
    }

    public var panelists: [Panelist] { panel.map { Panelist(id: $0.id, label: $0.label, model: $0.model) } }

    /// The parsed rubric, if there is one.
    /// - Throws: `InputError` when the stored YAML no longer parses (it did when it was stored).
    public func parsedRubric() throws -> Rubric? {
        try rubric.map { try Rubric(yaml: $0.yaml, file: $0.file) }
    }

    /// Members for this panel, through `directory` (keys from the environment now).
    /// - Throws: ``ProviderError`` (a missing key names its variable).
    public func members(directory: ProviderDirectory, transport: HTTPTransport = HTTPTransport()) throws(ProviderError)
        -> [SurveyMember] {
        var members = try SurveyRunner.members(for: panelists, directory: directory, transport: transport)
        for (i, entry) in panel.enumerated() {
            members[i].system = entry.system
            members[i].temperature = entry.temperature
        }
        return members
    }

    /// Runner options from the stored settings (`concurrency` also caps each provider, as `ask` does).
    public func options() -> RunnerOptions {
        var options = RunnerOptions(samples: samples)
        if let concurrency {
            options.concurrency = concurrency
            options.perProviderConcurrency = concurrency
        }
        if let timeoutSeconds { options.timeout = .milliseconds(Int((timeoutSeconds * 1000).rounded())) }
        options.parameters = parameters
        return options
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    public func encoded() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(self)) ?? Data("{}".utf8)
    }

    /// - Throws: `InputError` naming the survey when the stored JSON is not a spec.
    public static func decode(_ data: Data, surveyID: String) throws -> SurveySpec {
        do {
            return try JSONDecoder().decode(SurveySpec.self, from: data)
        } catch {
            throw InputError(field: "survey \(surveyID)", "its stored settings cannot be read (\(error))")
        }
    }
}
