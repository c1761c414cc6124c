import ConvergeProviders
import Foundation
import NIOHTTP1

/// The provider response decoders: what each wire format's client does with a finished HTTP exchange
/// (`OpenAIChatProvider.response(to:redactor:)` and its Anthropic and Gemini twins), on any body.
extension FuzzTargets {
    enum Wire { case openAI, anthropic, gemini }

    /// The key the redactor scrubs: the seeds carry it, so that the fuzzer moves it around the body.
    static let providerKey = "sk-fuzz-0123456789abcdefKEY"

    /// The body as a 200 and as a 503, with the request-id headers when its length is even (so that a body's
    /// own `id` is used too): an answer has text and holds no key; an error is the status's `.http` (a 503),
    /// or `.http`, `.malformedResponse` or `.emptyResponse` (a 200), and its description is one line of bounded
    /// length without control characters (nothing a server sends can drive the terminal) and no piece of the key.
    static func provider(_ wire: Wire, _ data: Data) {
        let redactor = Redactor(secrets: [providerKey])
        var headers = HTTPHeaders([("retry-after", "2")])
        if data.count % 2 == 0 { headers.add(contentsOf: [("x-request-id", "req-fuzz"), ("request-id", "req-fuzz")]) }
        for status in [200, 503] {
            let result = HTTPResult(status: status, headers: headers, body: data, latencyMs: 7)
            do throws(ProviderError) {
                let response: ChatResponse
                switch wire {
                case .openAI: response = try OpenAIChatProvider.response(to: result, redactor: redactor)
                case .anthropic: response = try AnthropicProvider.response(to: result, redactor: redactor)
                case .gemini: response = try GeminiProvider.response(to: result, redactor: redactor)
                }
                guard status == 200 else { fatalError("a \(status) was read as an answer") }
                guard !response.text.isEmpty else { fatalError("an answer without text") }
                guard !response.text.contains(providerKey) else { fatalError("the key is in the answer's text") }
                guard response.latencyMs == 7 else { fatalError("the latency is not the exchange's") }
            } catch {
                check(error, status: status, wire: wire)
            }
        }
    }

    static func check(_ error: ProviderError, status: Int, wire: Wire) {
        switch error {
        case .http(let code, _, let retryAfter, _):
            guard status == 200 || code == status else { fatalError("a \(status) reported as HTTP \(code)") }
            guard retryAfter == 2 else { fatalError("Retry-After 2 read as \(String(describing: retryAfter))") }
            guard (100...599).contains(code) else { fatalError("HTTP status \(code)") }
            guard status != 200 || wire == .openAI else { fatalError("a 200 reported as HTTP \(code)") }
        case .malformedResponse, .emptyResponse:
            guard status == 200 else { fatalError("a \(status) reported as \(error)") }
        default:
            fatalError("unexpected error from a finished exchange: \(error)")
        }
        let text = error.description
        guard text.count <= 1000 else { fatalError("an error description of \(text.count) characters") }
        if let scalar = text.unicodeScalars.first(where: { $0.properties.generalCategory == .control }) {
            fatalError("a control character U+\(String(scalar.value, radix: 16)) in an error: \(text.debugDescription)")
        }
        let key = Array(providerKey)
        for start in 0...(key.count - 8) where text.contains(String(key[start..<(start + 8)])) {
            fatalError("a piece of the key in an error: \(text.debugDescription)")
        }
    }
}
