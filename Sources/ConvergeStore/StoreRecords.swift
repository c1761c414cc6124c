import Foundation

/// Where a survey stands.
public enum SurveyStatus: String, Sendable, Hashable, Codable, CaseIterable {
    /// Being asked, or stopped without finishing (a killed process leaves this; `surveys resume` finishes it).
    case running
    /// Every request answered.
    case complete
    /// Some requests failed (the report lists each cause).
    case partial
    /// Every request failed.
    case failed
    /// Stopped by the user (Ctrl-C, SIGTERM); resumable.
    case interrupted
}

/// Where one request stands.
public enum RequestState: String, Sendable, Hashable, Codable {
    /// Written before it is sent; still pending after a crash, so `resume` sends it.
    case pending
    case answered
    case failed
}

/// A survey's row: what it asked and where it stands. `spec` is the runner's own JSON (panel, settings,
/// rubric) that lets a survey be resumed or continued; the store keeps it opaque.
public struct StoredSurvey: Sendable, Hashable {
    /// Short random id (12 lowercase base-32 characters).
    public var id: String
    public var status: SurveyStatus
    public var createdAt: Date
    public var updatedAt: Date
    /// The first turn's message.
    public var prompt: String
    /// Panelists asked.
    public var panelSize: Int
    /// Opaque JSON owned by the runner.
    public var spec: Data
    /// The process asking the survey now (`HOST:PID`), or `nil` when none is (see ``SurveyStore/claim(surveyID:owner:expected:)``).
    public var owner: String?

    public init(id: String, status: SurveyStatus = .running, createdAt: Date = Date(), updatedAt: Date? = nil,
                prompt: String, panelSize: Int, spec: Data, owner: String? = nil) {
        self.id = id
        self.status = status
        self.createdAt = createdAt
        self.updatedAt = updatedAt ?? createdAt
        self.prompt = prompt
        self.panelSize = panelSize
        self.spec = spec
        self.owner = owner
    }

    /// A new random id: 12 characters of Crockford-style base 32 (60 bits).
    public static func newID() -> String {
        let alphabet = Array("0123456789abcdefghjkmnpqrstvwxyz")
        var generator = SystemRandomNumberGenerator()
        return String((0..<12).map { _ in alphabet[Int(generator.next(upperBound: UInt32(alphabet.count)))] })
    }
}

/// One turn of a survey: 0 is the prompt, then the follow-ups in order.
public struct StoredTurn: Sendable, Hashable {
    public var index: Int
    public var prompt: String
    public var createdAt: Date

    public init(index: Int, prompt: String, createdAt: Date = Date()) {
        self.index = index
        self.prompt = prompt
        self.createdAt = createdAt
    }
}

/// Identifies one request of a survey: turn, panelist, sample (0-based).
public struct StoredRequestKey: Sendable, Hashable, Codable, CustomStringConvertible {
    public var turn: Int
    public var panelistID: String
    public var sample: Int

    public init(turn: Int, panelistID: String, sample: Int) {
        self.turn = turn
        self.panelistID = panelistID
        self.sample = sample
    }

    public var description: String { "turn \(turn + 1), \(panelistID), sample \(sample + 1)" }
}

/// An answer as stored: text exactly as received, usage and timing.
public struct StoredResponse: Sendable, Hashable, Codable {
    public var text: String
    /// Milliseconds from sending to the end of the body.
    public var latencyMs: Int
    public var inputTokens: Int?
    public var outputTokens: Int?
    public var finishReason: String?
    /// The provider's request id, when it sends one.
    public var requestID: String?
    /// The model the provider says answered.
    public var model: String?

    public init(text: String, latencyMs: Int, inputTokens: Int? = nil, outputTokens: Int? = nil,
                finishReason: String? = nil, requestID: String? = nil, model: String? = nil) {
        self.text = text
        self.latencyMs = latencyMs
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.finishReason = finishReason
        self.requestID = requestID
        self.model = model
    }
}

/// One request's row.
public struct StoredRequest: Sendable, Hashable {
    public var key: StoredRequestKey
    public var state: RequestState
    /// SHA-256 (hex) of the canonical request: the response cache key.
    public var cacheKey: String
    /// The request as sent, JSON (model, messages, parameters; never a key).
    public var request: Data
    public var response: StoredResponse?
    /// Why it failed (never holds a key).
    public var error: String?
    /// Attempts made; 0 for an answer taken from the cache.
    public var attempts: Int
    /// Whether the answer was taken from the response cache instead of the network.
    public var fromCache: Bool
    public var updatedAt: Date

    public init(key: StoredRequestKey, state: RequestState, cacheKey: String, request: Data,
                response: StoredResponse? = nil, error: String? = nil, attempts: Int = 0, fromCache: Bool = false,
                updatedAt: Date = Date()) {
        self.key = key
        self.state = state
        self.cacheKey = cacheKey
        self.request = request
        self.response = response
        self.error = error
        self.attempts = attempts
        self.fromCache = fromCache
        self.updatedAt = updatedAt
    }
}

/// An analysis of a survey: the report JSON and the engine that made it.
public struct StoredAnalysis: Sendable, Hashable {
    public var surveyID: String
    /// The turn analysed (0-based).
    public var turn: Int
    /// `converge 0.1.0; similarity lexical`, for example.
    public var engine: String
    public var createdAt: Date
    /// The report, schema version 1 JSON.
    public var report: Data

    public init(surveyID: String, turn: Int, engine: String, createdAt: Date = Date(), report: Data) {
        self.surveyID = surveyID
        self.turn = turn
        self.engine = engine
        self.createdAt = createdAt
        self.report = report
    }
}
