import ConvergeProviders
import Testing

/// The redactor on keys that hold a piece of its own placeholder.
@Suite struct RedactorTests {
    /// Found while writing the provider fuzz targets' key invariant: a key with `redacted` in it made `redact`
    /// loop for ever (each pass put the piece `redacted` back with the placeholder), on any text that held a
    /// piece of the key: a hang of the request's error path.
    @Test func aKeyHoldingThePlaceholdersWordIsRedactedAndTheRedactorEnds() {
        let key = "sk-redacted-0123456789"
        let redactor = Redactor(secrets: [key])
        let text = redactor.redact("key \(key) and a piece sk-redacted-01 and 3456789")
        #expect(text == "key <redacted> and a piece <redacted>ted-01 and 3456789")
        let characters = Array(key)
        for start in 0...(characters.count - 8) {
            let piece = String(characters[start..<(start + 8)])
            #expect("<redacted>".contains(piece) || !text.contains(piece), "\(piece)")
        }
        #expect(redactor.redactAnswer("the key \(key)") == "the key <redacted>")
    }
}
