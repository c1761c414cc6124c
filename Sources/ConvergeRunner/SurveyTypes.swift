import ConvergeCore
import ConvergeProviders

/// One question put to a panel: an initial prompt and any follow-ups (ARCHITECTURE.md, "Terms").
public struct Survey: Sendable, Hashable, Codable {
    /// An optional system message sent at the head of every thread.
    public var system: String?
    /// The turns' user messages: `turns[0]` is the prompt, the rest are follow-ups, in order.
    public var turns: [String]

    public init(prompt: String, followUps: [String] = [], system: String? = nil) {
        self.system = system
        self.turns = [prompt] + followUps
    }

    /// The first turn's message (empty if `turns` was emptied by hand).
    public var prompt: String { turns.first ?? "" }
    public var followUps: ArraySlice<String> { turns.dropFirst() }
}

/// A panelist with the client that answers for it.
public struct SurveyMember: Sendable {
    public var panelist: Panelist
    /// The client; its ``LLMProvider/name`` keys the per-provider concurrency limit.
    public var provider: any LLMProvider
    /// The model as the provider expects it (the spec without `provider/`).
    public var model: String
    /// A cap on requests in flight to this member's provider (the config file's `max_concurrency`); the
    /// lowest cap among members of the same provider wins, and ``RunnerOptions/perProviderConcurrency``
    /// bounds it from above.
    public var providerLimit: Int?
    /// This panelist's own system prompt, instead of the survey's (a panel entry's `system`).
    public var system: String?
    /// This panelist's own sampling temperature, instead of the run's (a panel entry's `temperature`).
    public var temperature: Double?

    public init(panelist: Panelist, provider: any LLMProvider, model: String, providerLimit: Int? = nil,
                system: String? = nil, temperature: Double? = nil) {
        self.panelist = panelist
        self.provider = provider
        self.model = model
        self.providerLimit = providerLimit
        self.system = system
        self.temperature = temperature
    }
}

/// How a survey is run.
public struct RunnerOptions: Sendable {
    /// Answers drawn from each panelist per turn (`--samples N`), at least 1.
    public var samples: Int
    /// Most requests in flight in all, at least 1.
    public var concurrency: Int
    /// Most requests in flight to one provider, at least 1 (lowered per provider by
    /// ``SurveyMember/providerLimit``).
    public var perProviderConcurrency: Int
    /// The longest one request may take, from sending to the end of the answer.
    public var timeout: Duration
    /// Retries on connection errors, timeouts, 408, 409, 429 and 5xx.
    public var retry: RetryPolicy
    /// Sampling parameters sent with every request.
    public var parameters: GenerationParameters

    public init(samples: Int = 1, concurrency: Int = 8, perProviderConcurrency: Int = 4,
                timeout: Duration = .seconds(120), retry: RetryPolicy = .default,
                parameters: GenerationParameters = .init()) {
        self.samples = samples
        self.concurrency = concurrency
        self.perProviderConcurrency = perProviderConcurrency
        self.timeout = timeout
        self.retry = retry
        self.parameters = parameters
    }

    /// Takes the config file's `concurrency`, `timeout` (seconds) and `max_attempts` where it sets them;
    /// apply command-line flags after this (flags win over the file; ``SurveyPlan`` does both).
    public mutating func apply(_ config: ConvergeConfig) {
        if let concurrency = config.concurrency { self.concurrency = concurrency }
        if let seconds = config.timeoutSeconds { timeout = .milliseconds(Int((seconds * 1000).rounded())) }
        if let attempts = config.maxAttempts { retry.maxAttempts = max(1, attempts) }
    }
}

/// Which request an event or an outcome is about: turn (0 = the prompt), panelist id, sample (0-based).
public struct RequestKey: Sendable, Hashable, Codable, CustomStringConvertible {
    public var turn: Int
    public var panelistID: String
    public var sample: Int

    public init(turn: Int, panelistID: String, sample: Int) {
        self.turn = turn
        self.panelistID = panelistID
        self.sample = sample
    }

    /// `turn 1, gpt-4o, sample 1` (1-based for people).
    public var description: String { "turn \(turn + 1), \(panelistID), sample \(sample + 1)" }
}

/// Progress of a survey, one event per step of each request.
///
/// For each ``RequestKey`` the events come in this order: `started` (attempt 1), then for each retry a
/// `retrying` followed by the next `started`, then exactly one `answered` or `failed`. A follow-up that is not
/// asked because its thread's earlier turn failed (or the run was cancelled) gets only `failed`. Events of
/// different keys interleave. The stream finishes when the survey ends.
public enum SurveyEvent: Sendable {
    /// Attempt number `attempt` (1-based) was sent (after the concurrency limits let it through).
    case started(RequestKey, attempt: Int)
    /// Attempt `attempt` failed with `reason`; the next starts after `delay` seconds.
    case retrying(RequestKey, attempt: Int, delay: Double, reason: String)
    /// The request was answered.
    case answered(RequestKey, ChatResponse)
    /// The request failed for good (or was not sent because an earlier turn of its thread failed).
    case failed(RequestKey, cause: String)

    public var key: RequestKey {
        switch self {
        case .started(let key, _), .retrying(let key, _, _, _), .answered(let key, _), .failed(let key, _): return key
        }
    }
}

/// Why a request has no answer.
public struct SampleFailure: Error, Sendable, Hashable, Codable, CustomStringConvertible {
    /// A human-readable cause (`HTTP 500: internal error (gave up after 3 attempts)`); never holds a key.
    public var cause: String
    /// The last provider error, when there was one (`nil` when the request was never sent).
    public var error: ProviderError?
    /// Attempts made (0 when never sent).
    public var attempts: Int

    public init(cause: String, error: ProviderError?, attempts: Int) {
        self.cause = cause
        self.error = error
        self.attempts = attempts
    }

    public var description: String { cause }
}

/// One request's outcome.
public enum SampleOutcome: Sendable, Hashable, Codable {
    /// The answer, and how many attempts it took (1 = first try).
    case answered(ChatResponse, attempts: Int)
    case failed(SampleFailure)

    public var response: ChatResponse? {
        if case .answered(let response, _) = self { return response }
        return nil
    }

    public var failure: SampleFailure? {
        if case .failed(let failure) = self { return failure }
        return nil
    }

    // JSON: {"status": "answered", "response": {...}, "attempts": N} or {"status": "failed", "failure": {...}}.
    private enum CodingKeys: String, CodingKey { case status, response, attempts, failure }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        switch try container.decode(String.self, forKey: .status) {
        case "answered":
            self = .answered(try container.decode(ChatResponse.self, forKey: .response),
                             attempts: try container.decode(Int.self, forKey: .attempts))
        case "failed":
            self = .failed(try container.decode(SampleFailure.self, forKey: .failure))
        case let other:
            throw DecodingError.dataCorruptedError(forKey: .status, in: container,
                                                   debugDescription: "unknown status `\(other)`")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .answered(let response, let attempts):
            try container.encode("answered", forKey: .status)
            try container.encode(response, forKey: .response)
            try container.encode(attempts, forKey: .attempts)
        case .failed(let failure):
            try container.encode("failed", forKey: .status)
            try container.encode(failure, forKey: .failure)
        }
    }
}

/// One panelist's outcomes for one turn: `samples[k]` is sample k.
public struct PanelistTurnResult: Sendable, Hashable, Codable {
    public var panelist: Panelist
    public var samples: [SampleOutcome]

    public init(panelist: Panelist, samples: [SampleOutcome]) {
        self.panelist = panelist
        self.samples = samples
    }
}

/// One turn's outcomes, panelists in panel order.
public struct TurnResult: Sendable, Hashable, Codable {
    /// 0 = the prompt.
    public var index: Int
    /// The user message of this turn.
    public var prompt: String
    public var panelists: [PanelistTurnResult]

    public init(index: Int, prompt: String, panelists: [PanelistTurnResult]) {
        self.index = index
        self.prompt = prompt
        self.panelists = panelists
    }

    /// The answers of sample `sample` as ConvergeCore values (failed panelists left out), ready for analysis.
    public func answers(sample: Int = 0) -> [Answer] {
        panelists.compactMap { entry in
            guard sample < entry.samples.count, let response = entry.samples[sample].response else { return nil }
            return Answer(panelist: entry.panelist, text: response.text)
        }
    }
}

/// Everything a survey produced: per turn, per panelist, per sample an answer or a failure with its cause.
public struct SurveyResult: Sendable, Hashable, Codable {
    public var survey: Survey
    public var panelists: [Panelist]
    public var samples: Int
    public var turns: [TurnResult]
    /// Whether the run was cancelled before it finished (Ctrl-C); unfinished requests are failures with
    /// cause `cancelled`.
    public var cancelled: Bool

    public init(survey: Survey, panelists: [Panelist], samples: Int, turns: [TurnResult], cancelled: Bool) {
        self.survey = survey
        self.panelists = panelists
        self.samples = samples
        self.turns = turns
        self.cancelled = cancelled
    }

    /// Every outcome with its key.
    public var outcomes: [(key: RequestKey, outcome: SampleOutcome)] {
        turns.flatMap { turn in
            turn.panelists.flatMap { entry in
                entry.samples.enumerated().map { sample, outcome in
                    (RequestKey(turn: turn.index, panelistID: entry.panelist.id, sample: sample), outcome)
                }
            }
        }
    }

    public var answerCount: Int { outcomes.filter { $0.outcome.response != nil }.count }
    public var failureCount: Int { outcomes.filter { $0.outcome.failure != nil }.count }
    /// `true` when every request was answered (the CLI exits 0); otherwise it exits 3 (partial failure).
    public var allAnswered: Bool { failureCount == 0 }

    /// The outcome of one request, if the key exists.
    public func outcome(turn: Int, panelistID: String, sample: Int = 0) -> SampleOutcome? {
        guard turn < turns.count,
              let entry = turns[turn].panelists.first(where: { $0.panelist.id == panelistID }),
              sample < entry.samples.count else { return nil }
        return entry.samples[sample]
    }
}
