import Foundation

/// Who said a message in a conversation thread.
public enum ChatRole: String, Sendable, Hashable, Codable {
    /// Instructions for the model; sent as the provider's system field (OpenAI `system` message, Anthropic
    /// top-level `system`, Gemini `systemInstruction`).
    case system
    /// The person asking: the prompt and every follow-up.
    case user
    /// The model's earlier answers in the same thread.
    case assistant
}

/// One message of a conversation thread.
public struct ChatMessage: Sendable, Hashable, Codable {
    public var role: ChatRole
    public var content: String

    public init(role: ChatRole, content: String) {
        self.role = role
        self.content = content
    }

    public static func system(_ content: String) -> ChatMessage { ChatMessage(role: .system, content: content) }
    public static func user(_ content: String) -> ChatMessage { ChatMessage(role: .user, content: content) }
    public static func assistant(_ content: String) -> ChatMessage { ChatMessage(role: .assistant, content: content) }
}

/// Generation parameters shared by every wire format. `nil` means "not sent": the provider's default applies
/// (except Anthropic's required `max_tokens`, which defaults to ``AnthropicProvider/defaultMaxTokens``).
public struct GenerationParameters: Sendable, Hashable, Codable {
    /// Sampling temperature; every front end holds it to ``RequestLimits/temperature`` (0...2).
    public var temperature: Double?
    /// Upper bound on generated tokens.
    public var maxTokens: Int?
    /// Nucleus sampling probability mass (0...1).
    public var topP: Double?
    /// Seed for providers that support reproducible sampling (OpenAI-compatible, Gemini); ignored by Anthropic.
    public var seed: Int?
    /// Stop sequences.
    public var stop: [String]?
    /// The form the answer must take, for wire formats with such a mode (`nil`: free text). Anthropic has no
    /// JSON mode and ignores it.
    public var responseFormat: ResponseFormat?

    public init(temperature: Double? = nil, maxTokens: Int? = nil, topP: Double? = nil, seed: Int? = nil,
                stop: [String]? = nil, responseFormat: ResponseFormat? = nil) {
        self.temperature = temperature
        self.maxTokens = maxTokens
        self.topP = topP
        self.seed = seed
        self.stop = stop
        self.responseFormat = responseFormat
    }
}

/// A provider's structured-output mode.
public enum ResponseFormat: String, Sendable, Hashable, Codable {
    /// One JSON object: OpenAI-compatible `"response_format": {"type": "json_object"}` (OpenAI, OpenRouter,
    /// Ollama, vLLM, llama.cpp server), Gemini `generationConfig.responseMimeType: "application/json"`.
    /// The prompt must still ask for JSON (OpenAI requires the word in it).
    case json
}

/// One request: a model (without the provider prefix), the whole thread so far (oldest first, ending with
/// the user's newest message) and the generation parameters.
public struct ChatRequest: Sendable, Hashable {
    /// The model as the provider expects it (`gpt-4o`, `claude-sonnet-4-5`, `gemini-2.5-pro`).
    public var model: String
    /// The thread, oldest first: optional `.system` message(s), then alternating `.user` / `.assistant`,
    /// ending with `.user`.
    public var messages: [ChatMessage]
    public var parameters: GenerationParameters

    public init(model: String, messages: [ChatMessage], parameters: GenerationParameters = .init()) {
        self.model = model
        self.messages = messages
        self.parameters = parameters
    }
}

/// One answer from one provider.
public struct ChatResponse: Sendable, Hashable, Codable {
    /// The answer text, exactly as received (concatenation of the text parts; Gemini "thought" parts excluded),
    /// except that a NUL (U+0000) becomes U+FFFD: databases cannot keep it in text (SQLite reads text only up
    /// to it, PostgreSQL refuses it), and one scalar for one keeps every quote offset of the analysis valid.
    public var text: String
    /// Wall-clock time from sending the request to receiving the whole body, in milliseconds.
    public var latencyMs: Int
    /// Prompt tokens as reported by the provider (`usage.prompt_tokens`, `usage.input_tokens`,
    /// `usageMetadata.promptTokenCount`); `nil` when not reported.
    public var inputTokens: Int?
    /// Generated tokens as reported by the provider (`usage.completion_tokens`, `usage.output_tokens`,
    /// `usageMetadata.candidatesTokenCount`); `nil` when not reported.
    public var outputTokens: Int?
    /// The provider's own finish reason, verbatim (`stop`, `length`, `end_turn`, `max_tokens`, `STOP`, ...).
    public var finishReason: String?
    /// The provider's request id: the `x-request-id` (OpenAI-compatible) or `request-id` (Anthropic) response
    /// header, else the body's `id` / `responseId`.
    public var requestID: String?
    /// The model that answered, as the provider reports it (may be more specific than the one asked for).
    public var model: String?

    public init(text: String, latencyMs: Int, inputTokens: Int? = nil, outputTokens: Int? = nil,
                finishReason: String? = nil, requestID: String? = nil, model: String? = nil) {
        self.text = text.contains("\u{0}") ? text.replacingOccurrences(of: "\u{0}", with: "\u{FFFD}") : text
        self.latencyMs = latencyMs
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.finishReason = finishReason
        self.requestID = requestID
        self.model = model
    }
}

/// Everything that can go wrong talking to a provider. Descriptions are human-readable and never contain an
/// API key: server-supplied text is scrubbed of the key before it is stored here (see ``Redactor``).
public enum ProviderError: Error, Sendable, Hashable, Codable, CustomStringConvertible {
    /// The model spec could not be parsed.
    case invalidModelSpec(String, reason: String)
    /// The spec names a provider that is neither built in nor in the config file.
    case unknownProvider(String, known: [String])
    /// The provider needs an API key and the environment variable holding it is unset or empty.
    case missingAPIKey(provider: String, variable: String)
    /// The configuration is unusable (bad base URL, unknown kind, bad YAML, ...).
    case invalidConfiguration(String)
    /// The server answered with a non-2xx status (or a 2xx carrying an error object).
    /// `retryAfter` is the server's Retry-After in seconds, when it sent one.
    case http(status: Int, message: String, retryAfter: Double?, requestID: String?)
    /// The connection could not be made or broke (refused, reset, closed mid-body).
    case connection(String)
    /// No complete answer within the per-request timeout (seconds).
    case timeout(seconds: Double)
    /// A 2xx answer whose body is not the expected JSON.
    case malformedResponse(String)
    /// A well-formed answer with nothing in it (no choices / candidates / text).
    case emptyResponse(String)
    /// The request was cancelled (e.g. Ctrl-C).
    case cancelled

    /// Whether the runner should try again (connection errors, timeouts, 408, 409, 429, 5xx).
    public var isRetryable: Bool {
        switch self {
        case .connection, .timeout: return true
        case .http(let status, _, _, _): return status == 408 || status == 409 || status == 429 || status >= 500
        default: return false
        }
    }

    /// The server's Retry-After, in seconds, when the error is an HTTP answer that carried one.
    public var retryAfter: Double? {
        if case .http(_, _, let retryAfter, _) = self { return retryAfter }
        return nil
    }

    public var description: String {
        switch self {
        case .invalidModelSpec(let spec, let reason):
            return "invalid model spec '\(spec)': \(reason)"
        case .unknownProvider(let name, let known):
            return "unknown provider '\(name)' (known: \(known.joined(separator: ", ")); "
                + "name others in converge.yaml under 'providers')"
        case .missingAPIKey(let provider, let variable):
            return "missing API key for provider '\(provider)': set the environment variable \(variable)"
        case .invalidConfiguration(let message):
            return "invalid configuration: \(message)"
        case .http(let status, let message, let retryAfter, let requestID):
            var text = "HTTP \(status)"
            if !message.isEmpty { text += ": \(message)" }
            if let retryAfter { text += " (retry after \(Self.format(seconds: retryAfter)))" }
            if let requestID { text += " [request id \(requestID)]" }
            return text
        case .connection(let message):
            return "connection error: \(message)"
        case .timeout(let seconds):
            return "timed out after \(Self.format(seconds: seconds))"
        case .malformedResponse(let message):
            return "malformed response: \(message)"
        case .emptyResponse(let message):
            return "empty response: \(message)"
        case .cancelled:
            return "cancelled"
        }
    }

    static func format(seconds: Double) -> String {
        if seconds == seconds.rounded() { return "\(Int(seconds)) s" }
        return String(format: "%.2f s", seconds)
    }
}

/// A client for one provider's wire format.
///
/// Implementations are value types or actors safe to share across tasks; one instance serves any number of
/// concurrent requests. They make exactly one HTTP request per call: retries, concurrency limits and
/// fan-out are the runner's job.
public protocol LLMProvider: Sendable {
    /// The provider's name (`openai`, `anthropic`, a config-file name); per-provider concurrency limits and
    /// messages use it.
    var name: String { get }

    /// What makes two providers the same server for the response cache: wire format and base URL
    /// (`openai http://127.0.0.1:8080/v1`). Never holds a key.
    var identity: String { get }

    /// Sends one request and waits for the whole answer.
    ///
    /// - Parameters:
    ///   - request: the model and the whole thread.
    ///   - timeout: the longest the request may take, from sending to the end of the body.
    /// - Returns: the answer with latency (ms), token counts, finish reason and request id.
    /// - Throws: ``ProviderError`` (only): `.http` for non-2xx, `.connection`, `.timeout`, `.malformedResponse`,
    ///   `.emptyResponse`, and `.cancelled` when the calling task is cancelled.
    func complete(_ request: ChatRequest, timeout: Duration) async throws -> ChatResponse
}

extension LLMProvider {
    /// The name alone, for providers that are not HTTP endpoints.
    public var identity: String { name }
}
