// The English (Porter2) Snowball stemmer, in pure Swift.
//
// Algorithm: "The English (Porter2) stemming algorithm", Martin Porter,
// https://snowballstem.org/algorithms/english/stemmer.html
// This port follows, step for step, the code that Snowball 2.2.0 generates from
// that algorithm's `english.sbl` (as shipped in the `snowballstemmer` 2.2.0
// Python package), and is checked against that package word for word by
// `Tests/ConvergeAnalysisTests/EnglishStemmerTests.swift` with the fixture that
// `scripts/make-stemmer-fixture.py` writes.

/// The Snowball English stemmer (Porter2), equal to the reference
/// `snowballstemmer` 2.2.0 (`snowballstemmer.stemmer("english").stemWord`).
///
/// Shapes: `stem(_:)` takes one word as a `String` (the caller lower-cases
/// it; the algorithm is defined on lower-case words) and returns its stem as a
/// `String`; it never fails and keeps no state, so one value can be shared by
/// any number of tasks.
///
/// The word is treated as a sequence of Unicode scalars, as the reference
/// treats a Python `str` as code points:
/// - words of fewer than 3 scalars are returned unchanged;
/// - only `a e i o u y` are vowels; any other scalar (digits, upper-case
///   letters, non-ASCII letters such as `é`, the typographic apostrophe
///   U+2019) counts as a non-vowel and is never removed or changed;
/// - the ASCII apostrophe `'` is handled as in the reference: one leading `'`
///   is removed, and the longest of the endings `'s'`, `'s`, `'` is removed
///   (step 1a). U+2019 is *not* mapped to `'` (Snowball 2.2.0 does not do so):
///   map it before calling if `dog’s` should stem like `dog's`;
/// - the exceptional forms (`skis`, `skies`, `dying`, `lying`, `tying`, `idly`,
///   `gently`, `ugly`, `early`, `only`, `singly`, and the invariant `sky`,
///   `news`, `howe`, `atlas`, `cosmos`, `bias`, `andes`) and, after step 1a,
///   the invariant `inning`, `outing`, `canning`, `herring`, `earring`,
///   `proceed`, `exceed`, `succeed` are applied as whole-word matches.
///
/// Steps: prelude (`y` to `Y` at the start and after a vowel), R1/R2 (with the
/// R1 prefixes `gener`, `commun`, `arsen`), steps 0/1a (apostrophes, plurals),
/// 1b (`eed`, `ed`, `ing`, ...), 1c (`y` to `i`), 2, 3, 4, 5, postlude (`Y`
/// back to `y`).
///
/// Performance: the word is copied once into a stack buffer of bytes (a
/// non-ASCII scalar becomes one placeholder byte) and edited in place; no
/// regular expressions, no Foundation, no allocation beyond the result
/// string (none at all for results of up to 15 UTF-8 bytes).
public struct EnglishStemmer: Sendable {
    public init() {}

    /// Returns the Porter2 stem of `word` (expected lower-case).
    public func stem(_ word: String) -> String {
        let byteCount = word.utf8.count
        if byteCount < 3 { return word }  // fewer bytes than 3 means fewer scalars than 3
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: byteCount) { storage in
            let base = storage.baseAddress!
            // Copy the word; every non-ASCII scalar becomes one placeholder byte.
            var length = 0
            var hasNonASCII = false
            let copied: Bool? = word.utf8.withContiguousStorageIfAvailable { bytes in
                var any: UInt8 = 0
                for i in 0..<bytes.count {
                    let byte = bytes[i]
                    base[i] = byte
                    any |= byte
                }
                return any < 0x80
            }
            if copied == true {
                length = byteCount
            } else {
                for scalar in word.unicodeScalars {
                    if scalar.value < 0x80 {
                        base[length] = UInt8(truncatingIfNeeded: scalar.value)
                    } else {
                        base[length] = Self.placeholder
                        hasNonASCII = true
                    }
                    length += 1
                }
                if length < 3 { return word }
            }

            var w = Word(base: base, length: length)
            w.run()
            let result = UnsafeBufferPointer(start: w.base, count: w.length)
            if !hasNonASCII {
                return String(decoding: result, as: UTF8.self)
            }
            // Put the non-ASCII scalars back, in order: the algorithm never
            // removes, adds or reorders them.
            var out = String.UnicodeScalarView()
            var originals = word.unicodeScalars.lazy.filter { $0.value >= 0x80 }.makeIterator()
            for byte in result {
                if byte == Self.placeholder, let original = originals.next() {
                    out.append(original)
                } else {
                    out.append(Unicode.Scalar(byte))
                }
            }
            return String(out)
        }
    }

    /// Stands for any non-ASCII scalar: outside every grouping, so a non-vowel.
    static let placeholder: UInt8 = 0x80
}

// MARK: - The algorithm on a byte buffer

private let aA = UInt8(ascii: "a"), aE = UInt8(ascii: "e"), aI = UInt8(ascii: "i")
private let aO = UInt8(ascii: "o"), aU = UInt8(ascii: "u"), aY = UInt8(ascii: "y")
private let aW = UInt8(ascii: "w"), aX = UInt8(ascii: "x"), aBigY = UInt8(ascii: "Y")
private let aL = UInt8(ascii: "l"), aS = UInt8(ascii: "s"), aT = UInt8(ascii: "t")
private let aApostrophe = UInt8(ascii: "'")

/// `v`: a e i o u y (lower case only; a `Y` made by the prelude is a consonant).
@inline(__always) private func isVowel(_ c: UInt8) -> Bool {
    c == aA || c == aE || c == aI || c == aO || c == aU || c == aY
}

/// `v_WXY`: v plus w, x, Y.
@inline(__always) private func isVowelWXY(_ c: UInt8) -> Bool {
    isVowel(c) || c == aW || c == aX || c == aBigY
}

/// `valid_LI`: c d e g h k m n r t.
@inline(__always) private func isValidLI(_ c: UInt8) -> Bool {
    switch c {
    case UInt8(ascii: "c"), UInt8(ascii: "d"), UInt8(ascii: "e"), UInt8(ascii: "g"),
         UInt8(ascii: "h"), UInt8(ascii: "k"), UInt8(ascii: "m"), UInt8(ascii: "n"),
         UInt8(ascii: "r"), UInt8(ascii: "t"):
        return true
    default:
        return false
    }
}

/// The word being stemmed: `base[0..<length]`, edited in place. Every edit
/// happens at the end except the prelude's, so the buffer never grows beyond
/// the input length.
private struct Word {
    var base: UnsafeMutablePointer<UInt8>
    var length: Int
    var p1 = 0
    var p2 = 0
    var yFound = false

    init(base: UnsafeMutablePointer<UInt8>, length: Int) {
        self.base = base
        self.length = length
    }

    // MARK: helpers

    @inline(__always) func equals(_ s: StaticString) -> Bool {
        let n = s.utf8CodeUnitCount
        guard length == n else { return false }
        let p = s.utf8Start
        for i in 0..<n where base[i] != p[i] { return false }
        return true
    }

    @inline(__always) func hasPrefix(_ s: StaticString) -> Bool {
        let n = s.utf8CodeUnitCount
        guard length >= n else { return false }
        let p = s.utf8Start
        for i in 0..<n where base[i] != p[i] { return false }
        return true
    }

    /// Whether `base[0..<end]` ends with `s`.
    @inline(__always) func ends(_ s: StaticString, at end: Int) -> Bool {
        let n = s.utf8CodeUnitCount
        guard end >= n else { return false }
        let p = s.utf8Start
        let start = end - n
        for i in 0..<n where base[start + i] != p[i] { return false }
        return true
    }

    @inline(__always) func ends(_ s: StaticString) -> Bool { ends(s, at: length) }

    /// Replaces `base[start..<length]` with `s` (never longer than what it replaces
    /// plus one byte, which the caller guarantees fits).
    @inline(__always) mutating func replace(from start: Int, with s: StaticString) {
        let n = s.utf8CodeUnitCount
        let p = s.utf8Start
        for i in 0..<n { base[start + i] = p[i] }
        length = start + n
    }

    /// Whether `base[0..<end]` contains a vowel.
    @inline(__always) func hasVowel(before end: Int) -> Bool {
        var i = end - 1
        while i >= 0 {
            if isVowel(base[i]) { return true }
            i -= 1
        }
        return false
    }

    /// `shortv` tested at `end`: `base[0..<end]` ends in a short syllable,
    /// i.e. non-vowel-other-than-wxY after a vowel after a non-vowel, or is
    /// exactly a vowel followed by a non-vowel.
    @inline(__always) func endsShortSyllable(at end: Int) -> Bool {
        if end >= 3, !isVowelWXY(base[end - 1]), isVowel(base[end - 2]), !isVowel(base[end - 3]) {
            return true
        }
        return end == 2 && !isVowel(base[1]) && isVowel(base[0])
    }

    // MARK: driver

    mutating func run() {
        if exception1() { return }
        prelude()
        markRegions()
        step1a()
        if !exception2() {
            step1b()
            step1c()
            step2()
            step3()
            step4()
            step5()
        }
        postlude()
    }

    /// Whole-word exceptional forms, tried on the word as given.
    mutating func exception1() -> Bool {
        switch length {
        case 3:
            return equals("sky")
        case 4:
            if equals("skis") { replace(from: 0, with: "ski"); return true }
            if equals("idly") { replace(from: 0, with: "idl"); return true }
            if equals("ugly") { replace(from: 0, with: "ugli"); return true }
            if equals("only") { replace(from: 0, with: "onli"); return true }
            return equals("howe") || equals("news") || equals("bias")
        case 5:
            if equals("skies") { replace(from: 0, with: "sky"); return true }
            if equals("dying") { replace(from: 0, with: "die"); return true }
            if equals("lying") { replace(from: 0, with: "lie"); return true }
            if equals("tying") { replace(from: 0, with: "tie"); return true }
            if equals("early") { replace(from: 0, with: "earli"); return true }
            return equals("andes") || equals("atlas")
        case 6:
            if equals("gently") { replace(from: 0, with: "gentl"); return true }
            if equals("singly") { replace(from: 0, with: "singl"); return true }
            return equals("cosmos")
        default:
            return false
        }
    }

    mutating func prelude() {
        yFound = false
        if length > 0 && base[0] == aApostrophe {
            base += 1
            length -= 1
        }
        if length > 0 && base[0] == aY {
            base[0] = aBigY
            yFound = true
        }
        var i = 1
        while i < length {
            if base[i] == aY && isVowel(base[i - 1]) {
                base[i] = aBigY
                yFound = true
            }
            i += 1
        }
    }

    mutating func markRegions() {
        p1 = length
        p2 = length
        var i: Int
        if hasPrefix("gener") || hasPrefix("arsen") {
            i = 5
        } else if hasPrefix("commun") {
            i = 6
        } else {
            i = 0
            while i < length && !isVowel(base[i]) { i += 1 }
            if i == length { return }
            i += 1
            while i < length && isVowel(base[i]) { i += 1 }
            if i == length { return }
            i += 1
        }
        p1 = i
        while i < length && !isVowel(base[i]) { i += 1 }
        if i == length { return }
        i += 1
        while i < length && isVowel(base[i]) { i += 1 }
        if i == length { return }
        i += 1
        p2 = i
    }

    mutating func step1a() {
        if ends("'s'") {
            length -= 3
        } else if ends("'s") {
            length -= 2
        } else if ends("'") {
            length -= 1
        }
        if ends("sses") {
            length -= 2
        } else if ends("ied") || ends("ies") {
            let bra = length - 3
            replace(from: bra, with: bra >= 2 ? "i" : "ie")
        } else if ends("ss") || ends("us") {
            return
        } else if ends("s") {
            // Delete if the part before the letter preceding the s has a vowel.
            let bra = length - 1
            if bra > 0 && hasVowel(before: bra - 1) {
                length = bra
            }
        }
    }

    func exception2() -> Bool {
        switch length {
        case 6:
            return equals("inning") || equals("outing") || equals("exceed")
        case 7:
            return equals("canning") || equals("herring") || equals("earring")
                || equals("proceed") || equals("succeed")
        default:
            return false
        }
    }

    mutating func step1b() {
        let bra: Int
        let isEed: Bool
        if ends("eedly") {
            bra = length - 5; isEed = true
        } else if ends("ingly") {
            bra = length - 5; isEed = false
        } else if ends("edly") {
            bra = length - 4; isEed = false
        } else if ends("eed") {
            bra = length - 3; isEed = true
        } else if ends("ing") {
            bra = length - 3; isEed = false
        } else if ends("ed") {
            bra = length - 2; isEed = false
        } else {
            return
        }
        if isEed {
            if bra >= p1 { replace(from: bra, with: "ee") }
            return
        }
        guard hasVowel(before: bra) else { return }
        length = bra
        if ends("at") || ends("bl") || ends("iz") {
            base[length] = aE
            length += 1
            return
        }
        if length >= 2 {
            let last = base[length - 1]
            if last == base[length - 2] {
                switch last {
                case UInt8(ascii: "b"), UInt8(ascii: "d"), UInt8(ascii: "f"), UInt8(ascii: "g"),
                     UInt8(ascii: "m"), UInt8(ascii: "n"), UInt8(ascii: "p"), UInt8(ascii: "r"),
                     UInt8(ascii: "t"):
                    length -= 1
                    return
                default:
                    break
                }
            }
        }
        if length == p1 && endsShortSyllable(at: length) {
            base[length] = aE
            length += 1
        }
    }

    mutating func step1c() {
        guard length >= 3 else { return }
        let last = base[length - 1]
        if (last == aY || last == aBigY) && !isVowel(base[length - 2]) {
            base[length - 1] = aI
        }
    }

    mutating func step2() {
        guard length >= 2 else { return }
        // Find the longest listed suffix; act only if it is in R1.
        enum Rule {
            case replace(StaticString)
            case ogi, li
        }
        var n = 0
        var rule = Rule.li
        switch base[length - 1] {
        case aI:
            if ends("li") {
                if ends("lessli") { n = 6; rule = .replace("less") }
                else if ends("fulli") { n = 5; rule = .replace("ful") }
                else if ends("ousli") { n = 5; rule = .replace("ous") }
                else if ends("entli") { n = 5; rule = .replace("ent") }
                else if ends("alli") { n = 4; rule = .replace("al") }
                else if ends("abli") { n = 4; rule = .replace("able") }
                else if ends("bli") { n = 3; rule = .replace("ble") }
                else { n = 2; rule = .li }
            } else if ends("biliti") { n = 6; rule = .replace("ble") }
            else if ends("aliti") { n = 5; rule = .replace("al") }
            else if ends("iviti") { n = 5; rule = .replace("ive") }
            else if ends("anci") { n = 4; rule = .replace("ance") }
            else if ends("enci") { n = 4; rule = .replace("ence") }
            else if ends("ogi") { n = 3; rule = .ogi }
        case aL:
            if ends("ational") { n = 7; rule = .replace("ate") }
            else if ends("tional") { n = 6; rule = .replace("tion") }
        case UInt8(ascii: "m"):
            if ends("alism") { n = 5; rule = .replace("al") }
        case UInt8(ascii: "n"):
            if ends("ization") { n = 7; rule = .replace("ize") }
            else if ends("ation") { n = 5; rule = .replace("ate") }
        case UInt8(ascii: "r"):
            if ends("izer") { n = 4; rule = .replace("ize") }
            else if ends("ator") { n = 4; rule = .replace("ate") }
        case aS:
            if ends("iveness") { n = 7; rule = .replace("ive") }
            else if ends("fulness") { n = 7; rule = .replace("ful") }
            else if ends("ousness") { n = 7; rule = .replace("ous") }
        default:
            break
        }
        guard n > 0 else { return }
        let bra = length - n
        guard bra >= p1 else { return }
        switch rule {
        case .replace(let s):
            replace(from: bra, with: s)
        case .ogi:
            if bra >= 1 && base[bra - 1] == aL { replace(from: bra, with: "og") }
        case .li:
            if bra >= 1 && isValidLI(base[bra - 1]) { length = bra }
        }
    }

    mutating func step3() {
        guard length >= 3 else { return }
        var n = 0
        var replacement: StaticString = ""
        var needsR2 = false
        switch base[length - 1] {
        case aL:
            if ends("ational") { n = 7; replacement = "ate" }
            else if ends("tional") { n = 6; replacement = "tion" }
            else if ends("ical") { n = 4; replacement = "ic" }
            else if ends("ful") { n = 3; replacement = "" }
        case aE:
            if ends("icate") { n = 5; replacement = "ic" }
            else if ends("ative") { n = 5; replacement = ""; needsR2 = true }
            else if ends("alize") { n = 5; replacement = "al" }
        case aI:
            if ends("iciti") { n = 5; replacement = "ic" }
        case aS:
            if ends("ness") { n = 4; replacement = "" }
        default:
            break
        }
        guard n > 0 else { return }
        let bra = length - n
        guard bra >= p1, !needsR2 || bra >= p2 else { return }
        replace(from: bra, with: replacement)
    }

    mutating func step4() {
        guard length >= 2 else { return }
        var n = 0
        var isIon = false
        switch base[length - 1] {
        case aT:
            if ends("ement") { n = 5 }
            else if ends("ment") { n = 4 }
            else if ends("ent") || ends("ant") { n = 3 }
        case aE:
            if ends("ance") || ends("ence") || ends("able") || ends("ible") { n = 4 }
            else if ends("ate") || ends("ive") || ends("ize") { n = 3 }
        case UInt8(ascii: "c"):
            if ends("ic") { n = 2 }
        case aI:
            if ends("iti") { n = 3 }
        case aL:
            if ends("al") { n = 2 }
        case UInt8(ascii: "m"):
            if ends("ism") { n = 3 }
        case UInt8(ascii: "n"):
            if ends("ion") { n = 3; isIon = true }
        case UInt8(ascii: "r"):
            if ends("er") { n = 2 }
        case aS:
            if ends("ous") { n = 3 }
        default:
            break
        }
        guard n > 0 else { return }
        let bra = length - n
        guard bra >= p2 else { return }
        if isIon {
            guard bra >= 1, base[bra - 1] == aS || base[bra - 1] == aT else { return }
        }
        length = bra
    }

    mutating func step5() {
        guard length >= 1 else { return }
        let bra = length - 1
        switch base[bra] {
        case aE:
            if bra >= p2 || (bra >= p1 && !endsShortSyllable(at: bra)) {
                length = bra
            }
        case aL:
            if bra >= p2 && bra >= 1 && base[bra - 1] == aL {
                length = bra
            }
        default:
            break
        }
    }

    mutating func postlude() {
        guard yFound else { return }
        for i in 0..<length where base[i] == aBigY {
            base[i] = aY
        }
    }
}
