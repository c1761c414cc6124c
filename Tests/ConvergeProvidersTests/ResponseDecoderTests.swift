import ConvergeProviders
import Foundation
import NIOHTTP1
import Testing

/// Each wire format's response decoder (`response(to:redactor:)`: what the client does with a finished exchange)
/// on bodies, among them the inputs the fuzz targets `openai`, `anthropic` and `gemini` found (each is also kept in
/// Fuzz/corpus/TARGET).
@Suite struct ResponseDecoderTests {
    static let key = "sk-test-0123456789abcdefKEY"
    static let redactor = Redactor(secrets: [key])

    enum Wire: CaseIterable { case openAI, anthropic, gemini }

    static func decode(_ wire: Wire, _ body: String, status: Int = 200,
                       headers: [(String, String)] = []) -> Result<ChatResponse, ProviderError> {
        let result = HTTPResult(status: status, headers: HTTPHeaders(headers), body: Data(body.utf8), latencyMs: 3)
        return Result { () throws(ProviderError) -> ChatResponse in
            switch wire {
            case .openAI: return try OpenAIChatProvider.response(to: result, redactor: redactor)
            case .anthropic: return try AnthropicProvider.response(to: result, redactor: redactor)
            case .gemini: return try GeminiProvider.response(to: result, redactor: redactor)
            }
        }
    }

    static func error(_ wire: Wire, _ body: String, status: Int = 200) -> ProviderError? {
        if case .failure(let error) = decode(wire, body, status: status) { return error }
        return nil
    }

    /// One line without control characters, of bounded length, with no piece of the key.
    static func isSafe(_ text: String) -> Bool {
        !text.unicodeScalars.contains { $0.properties.generalCategory == .control } && text.count <= 1000
            && !text.contains("0123456789abcdef")
    }

    @Test func eachWireFormatsAnswerIsRead() throws {
        let openAI = try Self.decode(.openAI, """
            {"id":"chatcmpl-7","model":"alpha","choices":[{"index":0,"message":{"role":"assistant","content":"Measure."},
            "finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":5}}
            """, headers: [("x-request-id", "req-1")]).get()
        #expect(openAI == ChatResponse(text: "Measure.", latencyMs: 3, inputTokens: 12, outputTokens: 5, finishReason: "stop",
                                       requestID: "req-1", model: "alpha"))
        let anthropic = try Self.decode(.anthropic, """
            {"id":"msg_7","type":"message","model":"claude","content":[{"type":"thinking","thinking":"hm"},
            {"type":"text","text":"First. "},{"type":"text","text":"Second."}],"stop_reason":"end_turn",
            "usage":{"input_tokens":3,"output_tokens":4}}
            """).get()
        #expect(anthropic == ChatResponse(text: "First. Second.", latencyMs: 3, inputTokens: 3, outputTokens: 4,
                                          finishReason: "end_turn", requestID: "msg_7", model: "claude"))
        let gemini = try Self.decode(.gemini, """
            {"candidates":[{"content":{"role":"model","parts":[{"text":"thinking","thought":true},{"text":"The answer."}]},
            "finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":4,"candidatesTokenCount":3},
            "modelVersion":"gemini-2.5-flash","responseId":"r2"}
            """).get()
        #expect(gemini == ChatResponse(text: "The answer.", latencyMs: 3, inputTokens: 4, outputTokens: 3, finishReason: "STOP",
                                       requestID: "r2", model: "gemini-2.5-flash"))
    }

    @Test(arguments: Wire.allCases)
    func anErrorStatusIsAnHTTPErrorWithTheServersMessageScrubbed(_ wire: Wire) {
        let body = #"{"error":{"message":"Incorrect API key provided: \#(Self.key)","code":401}}"#
        guard case .http(503, let message, nil, nil) = Self.error(wire, body, status: 503) else {
            Issue.record("not an HTTP 503: \(String(describing: Self.error(wire, body, status: 503)))")
            return
        }
        #expect(message == "Incorrect API key provided: <redacted>")
    }

    /// Found by the fuzz targets: a finish reason, stop reason, block reason or body request id with control
    /// characters (an ANSI escape, a line feed, BEL) went verbatim into the error that the CLI prints, and at any
    /// length. Now each is scrubbed, one line and at most 100 characters.
    @Test func aServersReasonsAndRequestIDInAnErrorAreOneShortLine() {
        let long = String(repeating: "x", count: 5_000)
        let cases: [(Wire, String)] = [
            (.openAI, #"{"choices":[{"message":{"content":""},"finish_reason":"\u001b[31mred"}]}"#),
            (.openAI, #"{"choices":[{"message":{},"finish_reason":"\#(long)"}]}"#),
            (.openAI, #"{"error":{"message":"x","code":500},"id":"a\u0007\u001b[2J"}"#),
            (.anthropic, #"{"content":[],"stop_reason":"\u001b[2J"}"#),
            (.anthropic, #"{"content":[{"type":"tool_use"}],"stop_reason":"\#(long)"}"#),
            (.gemini, #"{"candidates":[],"promptFeedback":{"blockReason":"a\nb"}}"#),
            (.gemini, #"{"candidates":[{"finishReason":"\r\u001b]0;title\u0007"}]}"#),
            (.gemini, #"{"candidates":[],"promptFeedback":{"blockReason":"\#(Self.key)"}}"#),
        ]
        for (wire, body) in cases {
            let error = Self.error(wire, body)
            #expect(error.map { Self.isSafe($0.description) } == true, "\(wire): \(String(describing: error))")
        }
        #expect(Self.error(.openAI, cases[0].1) == .emptyResponse("the model returned no text (finish reason:  [31mred)"))
    }
}
