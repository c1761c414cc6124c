/// A word of an answer, with its position: `start..<end` are Unicode scalar offsets into the answer.
public struct Token: Sendable, Hashable {
    public var start: Int
    public var end: Int
    /// The exact text (`C#`, `Node.js`, `CI/CD`, `5-8+`, `Data-Intensive`).
    public var text: String

    public init(start: Int, end: Int, text: String) {
        self.start = start
        self.end = end
        self.text = text
    }

    /// Whether the first scalar is an upper-case letter.
    public var isCapitalized: Bool { text.unicodeScalars.first?.properties.isUppercase ?? false }
    /// Whether any scalar is a decimal digit.
    public var hasDigit: Bool { text.unicodeScalars.contains { $0.properties.numericType == .decimal } }
}

/// Splits text into words, Unicode-aware, keeping technical names whole.
///
/// A word is a run of letters, marks and digits. These join two word characters into one word: `'` `’` `.`
/// `-` `/` `_` `&` (`don't`, `Node.js`, `server-side`, `CI/CD`, `R&D`); `#` and up to two `+` after a word
/// character end it (`C#`, `C++`, `5+`). Everything else (spaces, punctuation, Markdown markup) separates
/// words. Linear in the length of the text.
public enum Tokenizer {
    @inline(__always)
    static func isWordScalar(_ s: Unicode.Scalar) -> Bool {
        if s.isASCII {
            let v = s.value
            return (v >= 0x30 && v <= 0x39) || (v >= 0x41 && v <= 0x5A) || (v >= 0x61 && v <= 0x7A)
        }
        let p = s.properties
        return p.isAlphabetic || p.numericType != nil || p.generalCategory == .nonspacingMark
            || p.generalCategory == .spacingMark
    }

    @inline(__always)
    static func isJoiner(_ s: Unicode.Scalar) -> Bool {
        switch s {
        case "'", "\u{2019}", ".", "-", "/", "_", "&": true
        default: false
        }
    }

    /// The words of `scalars[range]`, with offsets relative to the whole array.
    public static func tokens(_ scalars: [Unicode.Scalar], in range: Range<Int>) -> [Token] {
        var result: [Token] = []
        var i = range.lowerBound
        let end = range.upperBound
        while i < end {
            guard isWordScalar(scalars[i]) else { i += 1; continue }
            let start = i
            i += 1
            while i < end {
                if isWordScalar(scalars[i]) {
                    i += 1
                } else if isJoiner(scalars[i]), i + 1 < end, isWordScalar(scalars[i + 1]) {
                    i += 2
                } else {
                    break
                }
            }
            // Trailing `#` (C#, F#) or `+`/`++` (C++, 5+), only when not followed by a word character.
            if i < end, scalars[i] == "#", i + 1 >= end || !isWordScalar(scalars[i + 1]) {
                i += 1
            } else if i < end, scalars[i] == "+" {
                var j = i
                while j < end, j - i < 2, scalars[j] == "+" { j += 1 }
                if j >= end || !isWordScalar(scalars[j]) { i = j }
            }
            result.append(Token(start: start, end: i, text: scalars.string(start..<i)))
        }
        return result
    }

    /// The words of a whole string (offsets into its scalars).
    public static func tokens(_ text: String) -> [Token] {
        let scalars = Array(text.unicodeScalars)
        return tokens(scalars, in: 0..<scalars.count)
    }
}

extension Array where Element == Unicode.Scalar {
    /// The scalars in `range` as a string, encoded straight into UTF-8 storage (the hot path of tokenizing).
    func string(_ range: Range<Int>) -> String {
        String(unsafeUninitializedCapacity: range.count * 4) { buffer in
            var n = 0
            for i in range {
                UTF8.encode(self[i]) { byte in
                    buffer[n] = byte
                    n += 1
                }
            }
            return n
        }
    }
}
