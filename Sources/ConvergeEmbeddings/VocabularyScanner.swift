import Foundation

/// Reads the `model.vocab` object of a Hugging Face `tokenizer.json` (token -> id) straight from the bytes.
///
/// `JSONDecoder` takes 70-95 ms for the 30,522 entries of all-MiniLM-L6-v2's vocabulary (most of a cold
/// process's model load); this scanner takes a few. It walks the document as RFC 8259 defines it (objects,
/// arrays, strings with every escape including UTF-16 surrogate pairs, numbers, literals), skipping every
/// value but `model`, then `vocab` inside it, whose members must be strings mapped to integers that fit in
/// `Int32`. Anything else (malformed JSON, invalid UTF-8, no such object, a non-integer id) is `nil`, and the caller reads
/// the file the slow way, which names the problem.
package enum VocabularyScanner {
    /// The vocabulary of the `tokenizer.json` bytes `data`, or `nil` (see the type).
    package static func vocabulary(in data: Data) -> [String: Int32]? {
        data.withUnsafeBytes { raw in
            var scanner = Scanner(bytes: raw.bindMemory(to: UInt8.self))
            return scanner.rootVocabulary()
        }
    }

    struct Failure: Error {}

    /// The deepest nesting the scanner follows. A tokenizer.json nests 5 or 6 deep; a deeper document goes to
    /// the slow path instead of recursing until the stack overflows (found by the fuzz target `tokenizer`: 9 KB of
    /// `[` ended the process with a stack overflow).
    static let maxDepth = 128

    struct Scanner {
        let bytes: UnsafeBufferPointer<UInt8>
        var i = 0
        var depth = 0

        init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

        mutating func rootVocabulary() -> [String: Int32]? {
            do {
                var found: [String: Int32]?
                var models = 0, vocabularies = 0
                try members { key, scanner in
                    guard key == "model" else { return try scanner.skipValue() }
                    models += 1
                    try scanner.members { key, scanner in
                        guard key == "vocab" else { return try scanner.skipValue() }
                        vocabularies += 1
                        found = try scanner.vocabularyObject()
                    }
                }
                // A repeated `model`, `vocab` or token is ambiguous (RFC 8259 leaves duplicate names to the
                // reader): the slow path decides.
                guard models == 1, vocabularies == 1 else { return nil }
                skipSpace()
                return i == bytes.count ? found : nil
            } catch {
                return nil
            }
        }

        mutating func skipSpace() {
            while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
        }

        mutating func expect(_ byte: UInt8) throws {
            skipSpace()
            guard i < bytes.count, bytes[i] == byte else { throw Failure() }
            i += 1
        }

        /// Calls `body` with each member's key of the object that starts here, the scanner at its value
        /// (which `body` must consume).
        mutating func members(_ body: (String, inout Scanner) throws -> Void) throws {
            try expect(UInt8(ascii: "{"))
            skipSpace()
            if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return }
            while true {
                skipSpace()
                let key = try string()
                try expect(UInt8(ascii: ":"))
                try body(key, &self)
                skipSpace()
                guard i < bytes.count else { throw Failure() }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                if bytes[i] == UInt8(ascii: "}") { i += 1; return }
                throw Failure()
            }
        }

        mutating func vocabularyObject() throws -> [String: Int32] {
            var vocabulary: [String: Int32] = [:]
            vocabulary.reserveCapacity(32_768)
            try members { key, scanner in
                guard vocabulary.updateValue(try scanner.integer(), forKey: key) == nil else { throw Failure() }
            }
            return vocabulary
        }

        /// An integer value that fits in `Int32` (no fraction or exponent).
        mutating func integer() throws -> Int32 {
            skipSpace()
            var negative = false
            if i < bytes.count, bytes[i] == UInt8(ascii: "-") { negative = true; i += 1 }
            var value: Int64 = 0
            let start = i
            while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 {
                value = value * 10 + Int64(bytes[i] - 0x30)
                guard value <= Int64(Int32.max) + 1 else { throw Failure() }
                i += 1
            }
            // RFC 8259: no leading zeros ("0447" is not a number).
            guard i > start, !(bytes[start] == UInt8(ascii: "0") && i - start > 1) else { throw Failure() }
            if i < bytes.count, [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(bytes[i]) { throw Failure() }
            let signed = negative ? -value : value
            guard let result = Int32(exactly: signed) else { throw Failure() }
            return result
        }

        /// A string starting at its opening quote, escapes decoded.
        mutating func string() throws -> String {
            guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw Failure() }
            i += 1
            let start = i
            // Fast path: no escape before the closing quote.
            while i < bytes.count, bytes[i] != UInt8(ascii: "\""), bytes[i] != UInt8(ascii: "\\") {
                guard bytes[i] >= 0x20 else { throw Failure() }
                i += 1
            }
            guard i < bytes.count else { throw Failure() }
            if bytes[i] == UInt8(ascii: "\"") {
                // Invalid UTF-8 is malformed JSON (RFC 8259 section 8.1), as JSONDecoder has it: never repaired.
                guard let text = String(validating: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self) else {
                    throw Failure()
                }
                i += 1
                return text
            }
            var utf8 = Array(bytes[start..<i])
            while true {
                guard i < bytes.count else { throw Failure() }
                let byte = bytes[i]
                if byte == UInt8(ascii: "\"") { i += 1; break }
                guard byte >= 0x20 else { throw Failure() }
                guard byte == UInt8(ascii: "\\") else { utf8.append(byte); i += 1; continue }
                i += 1
                guard i < bytes.count else { throw Failure() }
                let escape = bytes[i]
                i += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(escape)
                case UInt8(ascii: "b"): utf8.append(0x08)
                case UInt8(ascii: "f"): utf8.append(0x0C)
                case UInt8(ascii: "n"): utf8.append(0x0A)
                case UInt8(ascii: "r"): utf8.append(0x0D)
                case UInt8(ascii: "t"): utf8.append(0x09)
                case UInt8(ascii: "u"):
                    var unit = try hex4()
                    var scalar: Unicode.Scalar?
                    if (0xD800..<0xDC00).contains(unit) {
                        // A high surrogate must be followed by an escaped low one.
                        guard i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else { throw Failure() }
                        i += 2
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw Failure() }
                        unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                        scalar = Unicode.Scalar(unit)
                    } else {
                        scalar = Unicode.Scalar(unit)
                    }
                    guard let scalar else { throw Failure() }
                    utf8.append(contentsOf: Array(String(scalar).utf8))
                default: throw Failure()
                }
            }
            guard let text = String(validating: utf8, as: UTF8.self) else { throw Failure() }
            return text
        }

        mutating func hex4() throws -> UInt32 {
            guard i + 4 <= bytes.count else { throw Failure() }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let byte = bytes[i]
                let digit: UInt32
                switch byte {
                case 0x30...0x39: digit = UInt32(byte - 0x30)
                case 0x41...0x46: digit = UInt32(byte - 0x41 + 10)
                case 0x61...0x66: digit = UInt32(byte - 0x61 + 10)
                default: throw Failure()
                }
                value = value << 4 | digit
                i += 1
            }
            return value
        }

        /// Skips one value of any kind.
        mutating func skipValue() throws {
            depth += 1
            defer { depth -= 1 }
            guard depth <= VocabularyScanner.maxDepth else { throw Failure() }
            skipSpace()
            guard i < bytes.count else { throw Failure() }
            switch bytes[i] {
            case UInt8(ascii: "{"): try members { _, scanner in try scanner.skipValue() }
            case UInt8(ascii: "["):
                i += 1
                skipSpace()
                if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return }
                while true {
                    try skipValue()
                    skipSpace()
                    guard i < bytes.count else { throw Failure() }
                    if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                    if bytes[i] == UInt8(ascii: "]") { i += 1; return }
                    throw Failure()
                }
            case UInt8(ascii: "\""): _ = try string()
            case UInt8(ascii: "t"): try literal("true")
            case UInt8(ascii: "f"): try literal("false")
            case UInt8(ascii: "n"): try literal("null")
            default: try number()
            }
        }

        mutating func literal(_ word: String) throws {
            for byte in word.utf8 {
                guard i < bytes.count, bytes[i] == byte else { throw Failure() }
                i += 1
            }
        }

        /// A number as RFC 8259 writes it: `-? int frac? exp?`.
        mutating func number() throws {
            func digits(_ scanner: inout Scanner) throws {
                let start = scanner.i
                while scanner.i < scanner.bytes.count, scanner.bytes[scanner.i] >= 0x30, scanner.bytes[scanner.i] <= 0x39 { scanner.i += 1 }
                guard scanner.i > start else { throw Failure() }
            }
            if bytes[i] == UInt8(ascii: "-") { i += 1 }
            try digits(&self)
            if i < bytes.count, bytes[i] == UInt8(ascii: ".") { i += 1; try digits(&self) }
            if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
                i += 1
                if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
                try digits(&self)
            }
        }
    }
}
