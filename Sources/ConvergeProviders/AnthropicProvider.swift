import Foundation

/// Anthropic Messages API.
///
/// Wire format (https://docs.anthropic.com/en/api/messages):
/// `POST {baseURL}/v1/messages` with headers `x-api-key: KEY` and `anthropic-version: 2023-06-01`, body
/// `{"model", "max_tokens" (required; ``defaultMaxTokens`` when the request sets none), "messages": [{"role":
/// "user"|"assistant", "content"}], "system"? (all `.system` messages joined by a blank line), "temperature"?,
/// "top_p"?, "stop_sequences"?}` (no JSON mode: ``ResponseFormat`` is not sent). The answer is the concatenation
/// of the `text` blocks of `content`, the
/// finish reason `stop_reason`, tokens `usage.input_tokens` / `usage.output_tokens`, the request id the
/// `request-id` header else the body's `id`. Errors carry `{"type": "error", "error": {"type", "message"}}`;
/// 529 (overloaded) is a 5xx and so retried.
public struct AnthropicProvider: LLMProvider {
    /// The `anthropic-version` header sent.
    public static let apiVersion = "2023-06-01"
    /// `max_tokens` when the request sets none (the API requires it).
    public static let defaultMaxTokens = 4096

    public let endpoint: ProviderEndpoint
    public let transport: HTTPTransport

    public var name: String { endpoint.name }
    public var identity: String { endpoint.identity }

    public init(endpoint: ProviderEndpoint, transport: HTTPTransport = HTTPTransport()) {
        self.endpoint = endpoint
        self.transport = transport
    }

    struct Body: Encodable {
        struct Message: Encodable { var role: String; var content: String }
        var model: String
        var max_tokens: Int
        var messages: [Message]
        var system: String?
        var temperature: Double?
        var top_p: Double?
        var stop_sequences: [String]?
    }

    struct Answer: Decodable {
        struct Block: Decodable {
            var type: String
            var text: String?
        }
        struct Usage: Decodable {
            var input_tokens: Int?
            var output_tokens: Int?
        }
        var id: String?
        var model: String?
        var content: [Block]?
        var stop_reason: String?
        var usage: Usage?
    }

    public func complete(_ request: ChatRequest, timeout: Duration) async throws -> ChatResponse {
        let p = request.parameters
        let system = request.messages.filter { $0.role == .system }.map(\.content)
        let body = Body(
            model: request.model,
            max_tokens: p.maxTokens ?? Self.defaultMaxTokens,
            messages: request.messages.filter { $0.role != .system }.map { .init(role: $0.role.rawValue, content: $0.content) },
            system: system.isEmpty ? nil : system.joined(separator: "\n\n"),
            temperature: p.temperature, top_p: p.topP, stop_sequences: p.stop)
        var headers: [(String, String)] = [("anthropic-version", Self.apiVersion)]
        if let key = endpoint.apiKey { headers.append(("x-api-key", key.value)) }
        let redactor = Redactor(secrets: [endpoint.apiKey?.value].compactMap { $0 })
        let result = try await transport.postJSON(
            url: WireSupport.join(endpoint.baseURL, "/v1/messages"), headers: headers,
            body: try WireSupport.encode(body), timeout: timeout, redactor: redactor)
        return try Self.response(to: result, redactor: redactor)
    }

    /// The answer read from a finished exchange: the status, then the body (what ``complete(_:timeout:)``
    /// does once the transport has returned; the fuzz target `converge-fuzz anthropic` runs it on any bytes).
    /// - Throws: ``ProviderError/http(status:message:retryAfter:requestID:)`` for a non-2xx,
    ///   ``ProviderError/malformedResponse(_:)``, ``ProviderError/emptyResponse(_:)``.
    package static func response(to result: HTTPResult, redactor: Redactor) throws(ProviderError) -> ChatResponse {
        let headerID = result.headers.value("request-id")
        guard (200..<300).contains(result.status) else {
            throw WireSupport.httpError(result, requestID: headerID, redactor: redactor)
        }
        let answer = try WireSupport.decode(Answer.self, from: result, redactor: redactor)
        guard let blocks = answer.content else { throw ProviderError.malformedResponse("no `content` in the answer") }
        let text = blocks.filter { $0.type == "text" }.compactMap(\.text).joined()
        guard !text.isEmpty else {
            let reason = WireSupport.value(answer.stop_reason ?? "none", redactor: redactor)
            throw ProviderError.emptyResponse("the model returned no text (stop reason: \(reason))")
        }
        return ChatResponse(text: redactor.redactAnswer(text), latencyMs: result.latencyMs, inputTokens: answer.usage?.input_tokens,
                            outputTokens: answer.usage?.output_tokens, finishReason: answer.stop_reason,
                            requestID: headerID ?? answer.id, model: answer.model)
    }
}
