import ConvergeProviders
import Crypto
import Foundation

/// The response cache key of a request: SHA-256 (FIPS 180-4, via swift-crypto), hex, of its canonical JSON
/// `{"baseURL","messages":[{"content","role"}],"model","parameters","provider","sample"}` with sorted keys.
///
/// Two requests share a key exactly when they go to the same wire format and base URL, for the same model,
/// with the same thread (system message included), the same generation parameters and the same sample index.
/// The panelist's id and label are not part of it, and neither is any key.
public struct RequestFingerprint: Sendable, Hashable {
    public let hex: String
    /// The canonical JSON that was hashed, which is also what the store keeps as "the request as sent".
    public let canonical: Data

    public init(identity: String, request: ChatRequest, sample: Int) {
        let parts = identity.split(separator: " ", maxSplits: 1).map(String.init)
        let canonical = Canonical(provider: parts.first ?? identity, baseURL: parts.count > 1 ? parts[1] : "",
                                  model: request.model, messages: request.messages, parameters: request.parameters,
                                  sample: sample)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding these plain values cannot fail.
        self.canonical = (try? encoder.encode(canonical)) ?? Data()
        self.hex = SHA256.hash(data: self.canonical).map { String(format: "%02x", $0) }.joined()
    }

    private struct Canonical: Encodable {
        var provider: String
        var baseURL: String
        var model: String
        var messages: [ChatMessage]
        var parameters: GenerationParameters
        var sample: Int
    }
}
