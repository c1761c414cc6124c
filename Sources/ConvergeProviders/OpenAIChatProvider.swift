import Foundation

/// OpenAI Chat Completions, and every server that speaks it (OpenRouter, Ollama, vLLM, llama.cpp server,
/// LM Studio, a base URL from the config file).
///
/// Wire format (https://platform.openai.com/docs/api-reference/chat/create):
/// `POST {baseURL}/chat/completions` with `Authorization: Bearer KEY` (sent only when a key is configured),
/// body `{"model", "messages": [{"role", "content"}], "temperature"?, "max_tokens"? (or
/// "max_completion_tokens" for the `openai` provider itself, where `max_tokens` is deprecated), "top_p"?,
/// "seed"?, "stop"?, "response_format"? (`{"type": "json_object"}` for ``ResponseFormat/json``), "stream": false}`.
/// The answer is `choices[0].message.content`, the finish reason
/// `choices[0].finish_reason`, tokens `usage.prompt_tokens` / `usage.completion_tokens`, the request id the
/// `x-request-id` header else the body's `id`. A 200 whose body holds `{"error": {...}}` and no choices
/// (OpenRouter does this) is treated as an HTTP error with the status in `error.code` (502 when absent).
public struct OpenAIChatProvider: LLMProvider {
    public let endpoint: ProviderEndpoint
    public let transport: HTTPTransport
    /// Whether to send `max_completion_tokens` instead of `max_tokens`.
    public var usesMaxCompletionTokens: Bool

    public var name: String { endpoint.name }
    public var identity: String { endpoint.identity }

    public init(endpoint: ProviderEndpoint, transport: HTTPTransport = HTTPTransport()) {
        self.endpoint = endpoint
        self.transport = transport
        self.usesMaxCompletionTokens = endpoint.name == "openai"
    }

    struct Body: Encodable {
        struct Message: Encodable { var role: String; var content: String }
        var model: String
        var messages: [Message]
        var temperature: Double?
        var max_tokens: Int?
        var max_completion_tokens: Int?
        var top_p: Double?
        var seed: Int?
        var stop: [String]?
        var response_format: ResponseFormatBody?
        var stream = false
    }

    struct ResponseFormatBody: Encodable { var type: String }

    struct Answer: Decodable {
        struct Choice: Decodable {
            struct Message: Decodable {
                var content: String?
                var refusal: String?
            }
            var message: Message?
            var finish_reason: String?
        }
        struct Usage: Decodable {
            var prompt_tokens: Int?
            var completion_tokens: Int?
        }
        struct ErrorBody: Decodable {
            var message: String?
            var code: FlexibleCode?
        }
        var id: String?
        var model: String?
        var choices: [Choice]?
        var usage: Usage?
        var error: ErrorBody?
    }

    public func complete(_ request: ChatRequest, timeout: Duration) async throws -> ChatResponse {
        let p = request.parameters
        let body = Body(
            model: request.model,
            messages: request.messages.map { .init(role: $0.role.rawValue, content: $0.content) },
            temperature: p.temperature,
            max_tokens: usesMaxCompletionTokens ? nil : p.maxTokens,
            max_completion_tokens: usesMaxCompletionTokens ? p.maxTokens : nil,
            top_p: p.topP, seed: p.seed, stop: p.stop,
            response_format: p.responseFormat.map { _ in ResponseFormatBody(type: "json_object") })
        var headers: [(String, String)] = []
        if let key = endpoint.apiKey { headers.append(("authorization", "Bearer \(key.value)")) }
        let redactor = Redactor(secrets: [endpoint.apiKey?.value].compactMap { $0 })
        let result = try await transport.postJSON(
            url: WireSupport.join(endpoint.baseURL, "/chat/completions"), headers: headers,
            body: try WireSupport.encode(body), timeout: timeout, redactor: redactor)
        return try Self.response(to: result, redactor: redactor)
    }

    /// The answer read from a finished exchange: the status, then the body (what ``complete(_:timeout:)``
    /// does once the transport has returned; the fuzz target `converge-fuzz openai` runs it on any bytes).
    /// - Throws: ``ProviderError/http(status:message:retryAfter:requestID:)`` for a non-2xx or an error object,
    ///   ``ProviderError/malformedResponse(_:)``, ``ProviderError/emptyResponse(_:)``.
    package static func response(to result: HTTPResult, redactor: Redactor) throws(ProviderError) -> ChatResponse {
        let headerID = result.headers.value("x-request-id")
        guard (200..<300).contains(result.status) else {
            throw WireSupport.httpError(result, requestID: headerID, redactor: redactor)
        }
        let answer = try WireSupport.decode(Answer.self, from: result, redactor: redactor)
        let requestID = headerID ?? answer.id
        guard let choice = answer.choices?.first else {
            if let error = answer.error {
                throw ProviderError.http(status: error.code?.status ?? 502,
                                         message: WireSupport.shorten(redactor.redact(error.message ?? "error"), to: 300),
                                         retryAfter: result.headers.retryAfterSeconds(),
                                         requestID: requestID.map { WireSupport.value($0, redactor: redactor) })
            }
            throw ProviderError.emptyResponse("no choices in the answer")
        }
        guard let text = choice.message?.content ?? choice.message?.refusal, !text.isEmpty else {
            let reason = WireSupport.value(choice.finish_reason ?? "none", redactor: redactor)
            throw ProviderError.emptyResponse("the model returned no text (finish reason: \(reason))")
        }
        return ChatResponse(text: redactor.redactAnswer(text), latencyMs: result.latencyMs, inputTokens: answer.usage?.prompt_tokens,
                            outputTokens: answer.usage?.completion_tokens, finishReason: choice.finish_reason,
                            requestID: requestID, model: answer.model)
    }
}

/// An error `code` that is a number or a string (`429`, `"rate_limit_exceeded"`).
struct FlexibleCode: Decodable {
    var status: Int?

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Int.self) {
            status = (100...599).contains(number) ? number : nil
        } else if let text = try? container.decode(String.self) {
            status = Int(text).flatMap { (100...599).contains($0) ? $0 : nil }
        } else {
            status = nil
        }
    }
}
