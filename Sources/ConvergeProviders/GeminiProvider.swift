import Foundation

/// Google Gemini API, generateContent.
///
/// Wire format (https://ai.google.dev/api/generate-content):
/// `POST {baseURL}/v1beta/models/{model}:generateContent` with header `x-goog-api-key: KEY` (never in the URL),
/// body `{"contents": [{"role": "user"|"model", "parts": [{"text"}]}], "systemInstruction"?: {"parts":
/// [{"text"}]}, "generationConfig"?: {"temperature", "maxOutputTokens", "topP", "seed", "stopSequences",
/// "responseMimeType" (`application/json` for ``ResponseFormat/json``)}}`.
/// The answer is the concatenation of `candidates[0].content.parts[].text` (parts marked `"thought": true`
/// left out), the finish reason `candidates[0].finishReason`, tokens `usageMetadata.promptTokenCount` /
/// `usageMetadata.candidatesTokenCount`, the request id the body's `responseId` (else an `x-request-id`
/// header). No candidates (e.g. a blocked prompt) is ``ProviderError/emptyResponse(_:)`` naming
/// `promptFeedback.blockReason` when given.
public struct GeminiProvider: LLMProvider {
    /// The API version path segment.
    public static let apiVersion = "v1beta"

    public let endpoint: ProviderEndpoint
    public let transport: HTTPTransport

    public var name: String { endpoint.name }
    public var identity: String { endpoint.identity }

    public init(endpoint: ProviderEndpoint, transport: HTTPTransport = HTTPTransport()) {
        self.endpoint = endpoint
        self.transport = transport
    }

    struct Part: Codable {
        var text: String?
        var thought: Bool?
    }
    struct Content: Codable {
        var role: String?
        var parts: [Part]?
    }
    struct Body: Encodable {
        struct GenerationConfig: Encodable {
            var temperature: Double?
            var maxOutputTokens: Int?
            var topP: Double?
            var seed: Int?
            var stopSequences: [String]?
            var responseMimeType: String?
        }
        var contents: [Content]
        var systemInstruction: Content?
        var generationConfig: GenerationConfig?
    }

    struct Answer: Decodable {
        struct Candidate: Decodable {
            var content: Content?
            var finishReason: String?
        }
        struct Usage: Decodable {
            var promptTokenCount: Int?
            var candidatesTokenCount: Int?
        }
        struct Feedback: Decodable { var blockReason: String? }
        var candidates: [Candidate]?
        var usageMetadata: Usage?
        var modelVersion: String?
        var responseId: String?
        var promptFeedback: Feedback?
    }

    public func complete(_ request: ChatRequest, timeout: Duration) async throws -> ChatResponse {
        let p = request.parameters
        let system = request.messages.filter { $0.role == .system }.map(\.content)
        let config = Body.GenerationConfig(temperature: p.temperature, maxOutputTokens: p.maxTokens, topP: p.topP,
                                           seed: p.seed, stopSequences: p.stop,
                                           responseMimeType: p.responseFormat.map { _ in "application/json" })
        let anyConfig = p.temperature != nil || p.maxTokens != nil || p.topP != nil || p.seed != nil || p.stop != nil
            || p.responseFormat != nil
        let body = Body(
            contents: request.messages.filter { $0.role != .system }.map {
                Content(role: $0.role == .assistant ? "model" : "user", parts: [Part(text: $0.content)])
            },
            systemInstruction: system.isEmpty ? nil : Content(parts: [Part(text: system.joined(separator: "\n\n"))]),
            generationConfig: anyConfig ? config : nil)
        var headers: [(String, String)] = []
        if let key = endpoint.apiKey { headers.append(("x-goog-api-key", key.value)) }
        let redactor = Redactor(secrets: [endpoint.apiKey?.value].compactMap { $0 })
        var model = request.model
        if model.hasPrefix("models/") { model.removeFirst("models/".count) }
        let encoded = model.addingPercentEncoding(withAllowedCharacters: Self.pathAllowed) ?? model
        let result = try await transport.postJSON(
            url: WireSupport.join(endpoint.baseURL, "/\(Self.apiVersion)/models/\(encoded):generateContent"),
            headers: headers, body: try WireSupport.encode(body), timeout: timeout, redactor: redactor)
        return try Self.response(to: result, redactor: redactor)
    }

    /// The answer read from a finished exchange: the status, then the body (what ``complete(_:timeout:)``
    /// does once the transport has returned; the fuzz target `converge-fuzz gemini` runs it on any bytes).
    /// - Throws: ``ProviderError/http(status:message:retryAfter:requestID:)`` for a non-2xx,
    ///   ``ProviderError/malformedResponse(_:)``, ``ProviderError/emptyResponse(_:)``.
    package static func response(to result: HTTPResult, redactor: Redactor) throws(ProviderError) -> ChatResponse {
        let headerID = result.headers.value("x-request-id")
        guard (200..<300).contains(result.status) else {
            throw WireSupport.httpError(result, requestID: headerID, redactor: redactor)
        }
        let answer = try WireSupport.decode(Answer.self, from: result, redactor: redactor)
        let requestID = answer.responseId ?? headerID
        guard let candidate = answer.candidates?.first else {
            let reason = answer.promptFeedback?.blockReason.map { " (prompt blocked: \(WireSupport.value($0, redactor: redactor)))" } ?? ""
            throw ProviderError.emptyResponse("no candidates in the answer" + reason)
        }
        let text = (candidate.content?.parts ?? []).filter { $0.thought != true }.compactMap(\.text).joined()
        guard !text.isEmpty else {
            let reason = WireSupport.value(candidate.finishReason ?? "none", redactor: redactor)
            throw ProviderError.emptyResponse("the model returned no text (finish reason: \(reason))")
        }
        return ChatResponse(text: redactor.redactAnswer(text), latencyMs: result.latencyMs,
                            inputTokens: answer.usageMetadata?.promptTokenCount,
                            outputTokens: answer.usageMetadata?.candidatesTokenCount,
                            finishReason: candidate.finishReason, requestID: requestID, model: answer.modelVersion)
    }

    /// Unreserved characters plus `.`; everything else in a model name is percent-encoded.
    static let pathAllowed: CharacterSet = {
        var set = CharacterSet.alphanumerics
        set.insert(charactersIn: "-._~")
        return set
    }()
}
