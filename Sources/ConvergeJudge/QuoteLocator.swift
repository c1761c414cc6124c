/// Finds the words a judge cites in an answer and gives back their exact place.
///
/// A judge quotes loosely: curly quotes for straight ones, an en dash for a hyphen, one space for a line
/// break, a lost `**` of Markdown bold, a capital at the start, `...` where it skipped words. The locator
/// compares a normalised form of both texts (case folded; every white-space run one space; ‘’‛′ as `'`,
/// “”„‟″ as `"`, every dash as `-`, `…` as `...`; Markdown `*`, `_` and backticks removed) and maps the
/// match back to the answer's own scalars, so that the evidence it returns is the answer's exact text. A
/// quote with an ellipsis is found part by part, in order, each within `maxGap` scalars of the one before; of
/// the places where that holds, the shortest span is taken. A match must start and end on word boundaries:
/// "safe to wash it" is not found in "unsafe to wash it", nor "ossessing a deep" in "possessing a deep".
///
/// Offsets are Unicode scalar offsets into the answer, as `Report.Evidence` uses. Cost: O(n) to prepare an
/// answer of n scalars; O(n · q) worst case per quote of q scalars (times the occurrences of an elided
/// quote's first part).
public struct QuoteLocator: Sendable {
    /// A quote shorter than this (normalised, in scalars) is not located: a word or two is found almost
    /// anywhere and verifies nothing.
    public static let minimumLength = 12
    /// Most scalars of the answer between two parts of an elided quote.
    public static let maxGap = 600

    public let scalars: [Unicode.Scalar]
    /// The normalised answer, and for each of its scalars the answer offset it came from.
    let normalized: [Unicode.Scalar]
    let origin: [Int]

    public init(answer: String) {
        scalars = Array(answer.unicodeScalars)
        var normalized: [Unicode.Scalar] = []
        var origin: [Int] = []
        var lastWasSpace = true
        for (offset, scalar) in scalars.enumerated() {
            for n in Self.normalize(scalar) {
                if n == " " {
                    if lastWasSpace { continue }
                    lastWasSpace = true
                } else {
                    lastWasSpace = false
                }
                normalized.append(n)
                origin.append(offset)
            }
        }
        self.normalized = normalized
        self.origin = origin
    }

    /// The normalised form of one scalar: none (dropped), itself, or its replacement.
    static func normalize(_ scalar: Unicode.Scalar) -> [Unicode.Scalar] {
        switch scalar {
        case "*", "_", "`": return []
        case "\u{2018}", "\u{2019}", "\u{201B}", "\u{2032}": return ["'"]
        case "\u{201C}", "\u{201D}", "\u{201E}", "\u{201F}", "\u{2033}": return ["\""]
        case "\u{2010}", "\u{2011}", "\u{2012}", "\u{2013}", "\u{2014}", "\u{2015}", "\u{2212}": return ["-"]
        case "\u{2026}": return [".", ".", "."]
        default:
            if scalar.properties.isWhitespace { return [" "] }
            return Array(String(scalar).lowercased().unicodeScalars)
        }
    }

    static func normalize(_ text: String) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        var lastWasSpace = true
        for scalar in text.unicodeScalars {
            for n in normalize(scalar) {
                if n == " " {
                    if lastWasSpace { continue }
                    lastWasSpace = true
                } else {
                    lastWasSpace = false
                }
                out.append(n)
            }
        }
        while out.last == " " { out.removeLast() }
        return out
    }

    /// Why a quote could not be located.
    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        case empty
        case tooShort
        case notFound
        /// An elided quote whose parts are too short (under two words each) or skip more words than they cite.
        case tooLoose

        public var description: String {
            switch self {
            case .empty: return "no words were cited"
            case .tooShort: return "the cited words are too few to locate (fewer than \(QuoteLocator.minimumLength) characters)"
            case .notFound: return "the cited words are not in the answer"
            case .tooLoose:
                return "the quote skips (...) more than it cites, or cites pieces of fewer than two words"
            }
        }
    }

    /// The answer's scalar range holding `quote` (its first occurrence), after normalisation; surrounding
    /// quotation marks, white space and a final `.`/`,`/`;` of the quote are ignored.
    public func locate(_ quote: String) -> Result<Range<Int>, Failure> {
        let parts = Self.elisionParts(Self.normalize(quote)).map(Self.trim).filter { !$0.isEmpty }
        guard !parts.isEmpty else { return .failure(.empty) }
        guard parts.reduce(0, { $0 + $1.count }) >= Self.minimumLength else { return .failure(.tooShort) }
        guard parts.count > 1 else {
            guard let at = Self.find(parts[0], in: normalized, from: 0, before: normalized.count) else {
                return .failure(.notFound)
            }
            return .success(origin[at]..<(origin[at + parts[0].count - 1] + 1))
        }
        // An elided quote: every part at least two words, and of the places where all its parts occur in order,
        // the shortest, which must not skip more than it cites ("Use ... optimising" verifies nothing).
        guard parts.allSatisfy({ $0.contains(" ") }) else { return .failure(.tooLoose) }
        var best: Range<Int>?
        var from = 0
        while let first = Self.find(parts[0], in: normalized, from: from, before: normalized.count) {
            if let end = matchRest(parts, after: first + parts[0].count), best == nil || end - first < best!.count {
                best = first..<end
            }
            from = first + 1
        }
        guard let best else { return .failure(.notFound) }
        guard parts.reduce(0, { $0 + $1.count }) * 2 >= best.count else { return .failure(.tooLoose) }
        return .success(origin[best.lowerBound]..<(origin[best.upperBound - 1] + 1))
    }

    /// Where the parts after the first end (normalised offset), each found within `maxGap` of the previous.
    private func matchRest(_ parts: [[Unicode.Scalar]], after start: Int) -> Int? {
        var from = start
        for part in parts.dropFirst() {
            guard let at = Self.find(part, in: normalized, from: from,
                                     before: min(normalized.count, from + Self.maxGap + part.count))
            else { return nil }
            from = at + part.count
        }
        return from
    }

    static func elisionParts(_ q: [Unicode.Scalar]) -> [ArraySlice<Unicode.Scalar>] {
        var parts: [ArraySlice<Unicode.Scalar>] = []
        var start = 0, i = 0
        while i < q.count {
            var dots = 0
            while i + dots < q.count && q[i + dots] == "." { dots += 1 }
            if dots >= 3 {
                parts.append(q[start..<i])
                i += dots
                start = i
            } else {
                i += max(dots, 1)
            }
        }
        parts.append(q[start..<q.count])
        return parts
    }

    static func trim(_ s: ArraySlice<Unicode.Scalar>) -> [Unicode.Scalar] {
        let strip: Set<Unicode.Scalar> = [" ", "\"", "'", ",", ";", ":", "."]
        var slice = s
        while let first = slice.first, strip.contains(first) { slice = slice.dropFirst() }
        while let last = slice.last, strip.contains(last) { slice = slice.dropLast() }
        return Array(slice)
    }

    /// First index `i >= from` with `haystack[i..<i+needle.count] == needle` and `i + needle.count <= before`,
    /// where the match does not cut a word: a needle that begins (ends) with a letter or digit must not have one
    /// just before (after) it in the haystack.
    static func find(_ needle: [Unicode.Scalar], in haystack: [Unicode.Scalar], from: Int, before: Int) -> Int? {
        guard !needle.isEmpty, before - from >= needle.count else { return nil }
        let first = needle[0]
        let startsWord = isWordScalar(first), endsWord = isWordScalar(needle[needle.count - 1])
        var i = from
        while i + needle.count <= before {
            if haystack[i] == first {
                var j = 1
                while j < needle.count && haystack[i + j] == needle[j] { j += 1 }
                if j == needle.count {
                    let cutsBefore = startsWord && i > 0 && isWordScalar(haystack[i - 1])
                    let end = i + needle.count
                    let cutsAfter = endsWord && end < haystack.count && isWordScalar(haystack[end])
                    if !cutsBefore && !cutsAfter { return i }
                }
            }
            i += 1
        }
        return nil
    }

    /// Letters, digits and combining marks: the scalars a word is made of.
    static func isWordScalar(_ scalar: Unicode.Scalar) -> Bool {
        let properties = scalar.properties
        return properties.isAlphabetic || properties.numericType != nil || properties.generalCategory == .nonspacingMark
    }
}
