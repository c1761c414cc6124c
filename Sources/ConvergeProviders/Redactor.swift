import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// Removes secrets from text that came from elsewhere (a server's error message, an error description)
/// before it is stored or logged. Servers sometimes echo part or all of a key ("Incorrect API key provided:
/// sk-...") — the whole key and any run of 8+ of its characters are replaced by `<redacted>`.
public struct Redactor: Sendable {
    let secrets: [String]
    static let placeholder = "<redacted>"

    public init(secrets: [String]) {
        self.secrets = secrets.filter { !$0.isEmpty }
    }

    /// An answer's text with every whole secret replaced by `<redacted>`: a model that echoes the key (a prompt
    /// injection, a misconfigured proxy) must not put it into the store or a report. Pieces are left: in an
    /// answer, eight characters of a key are far more likely the answer's own words.
    public func redactAnswer(_ text: String) -> String {
        var result = text
        for secret in secrets where result.contains(secret) {
            result = result.replacingOccurrences(of: secret, with: "<redacted>")
        }
        return result
    }

    /// `text` with every occurrence of a secret, and of any 8-character (or longer) piece of one, replaced.
    public func redact(_ text: String) -> String {
        var result = text
        for secret in secrets {
            result = result.replacingOccurrences(of: secret, with: "<redacted>")
            // Pieces: a server may print a prefix and suffix of the key ("sk-abc...wxyz"); catch any window of
            // 8 characters of the key that is still present.
            // A piece inside the placeholder itself (a key with `redacted` in it) is left: replacing it would put it
            // back, forever. The passes are bounded all the same.
            let characters = Array(secret)
            let window = 8
            if characters.count > window {
                var changed = true
                var passes = 0
                while changed && passes <= characters.count {
                    changed = false
                    passes += 1
                    for start in 0...(characters.count - window) {
                        let piece = String(characters[start..<(start + window)])
                        if !Self.placeholder.contains(piece) && result.contains(piece) {
                            result = result.replacingOccurrences(of: piece, with: "<redacted>")
                            changed = true
                        }
                    }
                }
            }
        }
        return result
    }
}
