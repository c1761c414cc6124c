import ConvergeCore

/// Markdown-aware segmentation of an answer into statements (ARCHITECTURE.md, "Terms").
///
/// Blocks first: ATX headings, list items (`-`, `*`, `+`, `1.`, `1)`), table rows, block quotes and paragraphs;
/// fenced code is skipped. A bold lead-in that opens a block (`**Databases:** ...`, `**Go** - ...`) becomes a
/// statement of its own and the section of what follows. Each block is split into sentences (`.`, `!`, `?`
/// followed by space and a capital, a digit or an opening mark; abbreviations such as `e.g.` and single-letter
/// initials such as `C.` do not end a sentence). A sentence that enumerates several points is split into
/// clauses at top-level commas and semicolons (not inside brackets or quotes, not between digits); fragments
/// with fewer than two content words rejoin their neighbour, and names listed after a cue (`like`, `such as`,
/// `e.g.`, `including`) stay with the phrase that introduced them. In a block named by its lead-in a sentence
/// splits only where every clause stands alone (at least four content words).
///
/// Offsets are Unicode scalar indices into the answer; every statement's text is exactly its slice.
/// Runs in time linear in the length of the answer.
public enum Segmenter {
    public static func statements(of text: String, answerIndex: Int) -> [Statement] {
        statements(of: Array(text.unicodeScalars), answerIndex: answerIndex)
    }

    public static func statements(of scalars: [Unicode.Scalar], answerIndex: Int) -> [Statement] {
        var state = State(scalars: scalars, answerIndex: answerIndex)
        state.run()
        return state.output
    }

    static let abbreviations: Set<String> = [
        "e.g", "i.e", "eg", "ie", "vs", "mr", "mrs", "ms", "dr", "prof", "inc", "ltd", "jr", "sr", "st", "no",
        "fig", "approx", "cf", "al", "u.s", "u.k", "a.m", "p.m", "ca", "dept", "est", "mt", "vol", "ed", "etc.,",
    ]
    static let listCues: Set<String> = ["like", "e.g", "eg", "including", "example", "instance", "namely",
                                        "especially", "include", "includes", "incl"]
    /// Words that open a dependent clause or phrase: a fragment that starts with one elaborates on its
    /// neighbour (`..., which can provide more control`, `If it slides around, ...`) and is not a point of its own.
    static let dependentOpeners: Set<String> = [
        "if", "when", "whenever", "which", "who", "whom", "whose", "where", "while", "as", "because", "since", "so",
        "to", "in", "for", "with", "without", "by", "just", "especially", "even", "then", "than", "unless", "until",
        "although", "though", "whether", "rather", "instead", "from", "at", "on", "into", "through", "once", "before",
        "after", "not", "like", "such", "thus", "thereby", "otherwise", "whereas", "across", "over", "under", "via",
        "per", "about", "again", "also", "too", "both", "either", "neither", "all", "each", "every", "ideally",
        "preferably", "typically", "usually", "often", "sometimes", "always", "never", "more", "less", "most", "least",
        "very", "much", "really", "quite", "that", "this", "these", "those", "it", "they",
    ]
    /// Relative pronouns: a fragment they open describes the phrase before it, in a list too.
    static let relativeOpeners: Set<String> = ["which", "who", "whom", "whose"]
    /// Words that open a noun phrase.
    static let determiners: Set<String> = ["a", "an", "the", "your", "their", "our", "this", "that", "my", "his", "her",
                                           "its", "some", "any", "each", "every"]
    /// Adjectives that answers coordinate before a noun ("a small, blunt knife", "a sturdy, non-slip board"): common
    /// ones without a tell-tale ending, and words ending in -ful, -ive, -ous, -able, -ible or -less.
    static let commonAdjectives: Set<String> = [
        "small", "large", "big", "little", "sharp", "dull", "blunt", "soft", "hard", "firm", "short", "long", "thin",
        "thick", "heavy", "light", "new", "old", "good", "simple", "clear", "strong", "quick", "brief", "concise", "clean",
        "dry", "wet", "damp", "warm", "cold", "hot", "cool", "dark", "quiet", "bright", "stable", "steady", "sturdy", "slow",
        "fast", "healthy", "fresh", "regular", "friendly", "calm", "gentle", "safe", "flat", "smooth", "high", "low",
        "well-lit", "non-slip", "genuine", "honest", "open", "specific", "compelling", "balanced", "varied",
    ]
    static func isAdjective(_ word: String) -> Bool {
        commonAdjectives.contains(word) || word.count > 5 && ["ful", "ive", "ous", "able", "ible", "less"].contains { word.hasSuffix($0) }
    }
    /// A word in -ing of more than four letters ("reading", "going"; not "king", "thing").
    static func isGerund(_ word: String) -> Bool { word.count > 4 && word.hasSuffix("ing") && !["thing", "things"].contains(word) }
    /// Words that open a leading phrase that only links the sentence to what came before ("Beyond coding, ...",
    /// "Most importantly, ...", "Remember, ..."): such a phrase is a clause of its own (filler), not part of the
    /// point.
    static let transitionOpeners: Set<String> = [
        "beyond", "besides", "alongside", "additionally", "moreover", "furthermore", "importantly", "most",
        "remember", "overall", "ultimately", "finally", "lastly", "also", "again", "plus", "similarly", "likewise",
        "however", "above", "first", "firstly", "second", "secondly", "third", "next", "in", "to",
    ]
    /// Words that open a sentence's leading dependent phrase (`To protect your fingers, ...`): it joins the
    /// clause after it.
    static let leadingOpeners: Set<String> = [
        "if", "when", "whenever", "while", "as", "because", "since", "to", "for", "by", "with", "without", "in",
        "although", "though", "once", "before", "after", "unless", "until", "on", "at", "from", "during", "whether",
        "even", "instead", "rather", "like", "unlike", "besides", "beyond", "alongside", "despite",
    ]

    /// Whether lower-cased words are a transition phrase: "beyond coding", "most importantly", "remember", "in
    /// addition", "first" (not "in a small bowl").
    static func isTransition(_ words: [String]) -> Bool {
        guard let first = words.first, transitionOpeners.contains(first) else { return false }
        switch first {
        case "in": return words.count == 2 && ["addition", "short", "summary", "conclusion", "general"].contains(words[1])
        case "to": return words == ["to", "summarize"] || words == ["to", "sum", "up"] || words == ["to", "conclude"]
        case "first" where words.count == 3: return words == ["first", "and", "foremost"]
        case "most": return words.count == 2 && ["importantly", "of"].contains(words[1])
        case "above": return words.count == 2 && words[1] == "all"
        case "first", "firstly", "second", "secondly", "third", "next", "also", "again", "remember", "however",
             "additionally", "moreover", "furthermore", "importantly", "overall", "ultimately", "finally", "lastly",
             "similarly", "likewise", "plus":
            return words.count == 1
        default: return words.count <= 4  // beyond/besides/alongside + a short noun phrase
        }
    }

    private struct State {
        let scalars: [Unicode.Scalar]
        let answerIndex: Int
        var output: [Statement] = []
        var section: String?
        var block: (start: Int, end: Int, isItem: Bool, indent: Int)?
        /// Every block so far, in order; `emit` gives statements the index of the last one.
        var blocks: [BlockInfo] = []

        struct BlockInfo {
            var kind: Statement.BlockKind
            var indent: Int
            /// Heading level (1-6); 0 for other blocks.
            var level: Int
            /// The block's last character other than white space and emphasis marks is a colon.
            var endsWithColon: Bool
            /// The block ends like a sentence (`.`, `!`, `?`): it says something, it does not label a section.
            var endsWithSentence = false
            var statements: [Int] = []
        }

        init(scalars: [Unicode.Scalar], answerIndex: Int) {
            self.scalars = scalars
            self.answerIndex = answerIndex
        }

        mutating func run() {
            var inFence: Unicode.Scalar?
            var lineStart = 0
            let n = scalars.count
            while lineStart <= n {
                var lineEnd = lineStart
                while lineEnd < n, scalars[lineEnd] != "\n" { lineEnd += 1 }
                processLine(lineStart, lineEnd, inFence: &inFence)
                lineStart = lineEnd + 1
            }
            flush()
            markSections()
        }

        /// Which headings and labels announce a section (and which statements they cover), and which headings
        /// name the one point that the paragraph under them explains (those act as lead-ins).
        mutating func markSections() {
            var label: [String?] = Array(repeating: nil, count: blocks.count)
            for (b, info) in blocks.enumerated() {
                guard let first = info.statements.first else { continue }
                var scope: [Int] = []
                if info.kind == .heading {
                    var j = b + 1
                    while j < blocks.count, !(blocks[j].kind == .heading && blocks[j].level <= info.level) {
                        scope.append(j)
                        j += 1
                    }
                    if scope.isEmpty { continue }
                    let items = scope.filter { blocks[$0].kind == .listItem || blocks[$0].kind == .tableRow }.count
                    let sentences = scope.reduce(0) { $0 + blocks[$1].statements.count }
                    if items == 0 && scope.count == 1 && blocks[scope[0]].kind == .paragraph && sentences <= 3 {
                        // `### Use a sharp knife` over one short paragraph: the heading names that point.
                        for s in info.statements { output[s].isLeadIn = true }
                        continue
                    }
                } else if info.kind == .listItem || info.kind == .paragraph {
                    guard info.statements.count == 1, output[first].kind != .clause, !info.endsWithSentence,
                          Tokenizer.tokens(output[first].text).count <= 6 else { continue }
                    var j = b + 1
                    while j < blocks.count, blocks[j].kind == .listItem,
                          info.kind == .paragraph || blocks[j].indent > info.indent {
                        scope.append(j)
                        j += 1
                    }
                    let opensList = info.kind == .listItem ? !scope.isEmpty : info.endsWithColon && !scope.isEmpty
                    guard opensList || (info.endsWithColon && b + 1 < blocks.count) else { continue }
                    if info.kind == .listItem, scope.count == 1, !blocks[scope[0]].statements.isEmpty {
                        // `7. Limit processed foods:` over one nested item: the label names that item's point,
                        // as a bold lead-in names the rest of its own item (FillerDetector still sets aside a
                        // generic one, "Tips:").
                        for s in info.statements { output[s].isLeadIn = true }
                        continue
                    }
                    if scope.isEmpty {
                        // `Additional tips:` over paragraphs: up to the next heading or label.
                        var k = b + 1
                        while k < blocks.count, blocks[k].kind != .heading, !blocks[k].endsWithColon {
                            scope.append(k)
                            k += 1
                        }
                    }
                } else {
                    continue
                }
                for s in info.statements { output[s].announcesSection = true }
                let text = Labels.plain(output[first].text)
                for j in scope { label[j] = text }
            }
            for (b, info) in blocks.enumerated() {
                for s in info.statements { output[s].sectionLabel = label[b] }
            }
        }

        func isSpace(_ i: Int) -> Bool {
            let c = scalars[i]
            if c.isASCII { return c == " " || c == "\t" || c == "\r" || c == "\n" || c == "\u{0B}" || c == "\u{0C}" }
            return c.properties.isWhitespace
        }

        mutating func processLine(_ ls: Int, _ le: Int, inFence: inout Unicode.Scalar?) {
            var s = ls
            while s < le, isSpace(s) || scalars[s] == "\u{FEFF}" { s += 1 }
            var e = le
            while e > s, isSpace(e - 1) { e -= 1 }
            if let fence = inFence {
                if e - s >= 3, scalars[s] == fence, scalars[s + 1] == fence, scalars[s + 2] == fence { inFence = nil }
                return
            }
            if s == e { flush(); return }
            let c = scalars[s]
            if (c == "`" || c == "~"), e - s >= 3, scalars[s + 1] == c, scalars[s + 2] == c {
                flush(); inFence = c; return
            }
            if c == "#" {
                var h = s
                while h < e, scalars[h] == "#" { h += 1 }
                if h - s <= 6, h == e || isSpace(h) {
                    flush()
                    var cs = h
                    while cs < e, isSpace(cs) { cs += 1 }
                    var ce = e
                    while ce > cs, scalars[ce - 1] == "#" { ce -= 1 }
                    while ce > cs, isSpace(ce - 1) { ce -= 1 }
                    if let range = trimmed(cs, ce) {
                        blocks.append(BlockInfo(kind: .heading, indent: 0, level: h - s, endsWithColon: endsWithColon(cs, ce)))
                        emit(range, kind: .heading)
                        section = plain(range)
                    }
                    return
                }
            }
            // Setext heading: `===` or `---` under a paragraph line turns that paragraph into a heading.
            if let current = block, !current.isItem, c == "=" || c == "-",
               scalars[s..<e].allSatisfy({ $0 == c }) {
                block = nil
                if let range = trimmed(current.start, current.end) {
                    blocks.append(BlockInfo(kind: .heading, indent: 0, level: c == "=" ? 1 : 2,
                                            endsWithColon: endsWithColon(current.start, current.end)))
                    emit(range, kind: .heading)
                    section = plain(range)
                }
                return
            }
            if isThematicBreak(s, e) { flush(); return }
            if c == "|" {
                flush()
                if !scalars[s..<e].allSatisfy({ "|-: \t".unicodeScalars.contains($0) }) {
                    var cs = s + 1
                    var ce = e
                    if ce > cs, scalars[ce - 1] == "|" { ce -= 1 }
                    while cs < ce, isSpace(cs) { cs += 1 }
                    while ce > cs, isSpace(ce - 1) { ce -= 1 }
                    if let range = trimmed(cs, ce) {
                        blocks.append(BlockInfo(kind: .tableRow, indent: 0, level: 0, endsWithColon: false))
                        emit(range, kind: .item)
                    }
                }
                return
            }
            var cs = s
            if c == ">" {
                while cs < e, scalars[cs] == ">" || isSpace(cs) { cs += 1 }
                if cs == e { flush(); return }
            }
            if let itemStart = listMarkerEnd(cs, e) {
                flush()
                block = (itemStart, e, true, cs - ls)
                return
            }
            if block != nil {
                block!.end = e
            } else {
                block = (cs, e, false, cs - ls)
            }
        }

        func isThematicBreak(_ s: Int, _ e: Int) -> Bool {
            let c = scalars[s]
            guard c == "-" || c == "*" || c == "_" else { return false }
            var count = 0
            for i in s..<e {
                if scalars[i] == c { count += 1 } else if !isSpace(i) { return false }
            }
            return count >= 3
        }

        /// Where the content of a list item starts, when the line opens one.
        func listMarkerEnd(_ s: Int, _ e: Int) -> Int? {
            let c = scalars[s]
            var i = s
            if c == "-" || c == "*" || c == "+" {
                i += 1
            } else if c.properties.numericType == .decimal, c.isASCII {
                while i < e, i - s < 3, scalars[i].isASCII, scalars[i].properties.numericType == .decimal { i += 1 }
                guard i < e, scalars[i] == "." || scalars[i] == ")" else { return nil }
                i += 1
            } else if c.isASCII, c.properties.isAlphabetic, s + 1 < e,
                      scalars[s + 1] == ")" || (scalars[s + 1] == "." && c.properties.isLowercase) {
                // A lettered item ("a. Open File Explorer", "b) ..."); an upper-case letter only with ")", so
                // that an initial ("A. Lincoln") stays text.
                i += 2
            } else {
                return nil
            }
            guard i < e, isSpace(i) else { return nil }
            while i < e, isSpace(i) { i += 1 }
            if i < e, scalars[i] == "[", i + 2 < e, scalars[i + 2] == "]" { i += 3 } // task list box
            while i < e, isSpace(i) { i += 1 }
            return i < e ? i : nil
        }

        /// The last scalar of `s..<e` other than white space and emphasis marks is a colon.
        func endsWithColon(_ s: Int, _ e: Int) -> Bool { endsWith(":", s, e) }

        /// The last scalar of `s..<e` other than white space and emphasis marks is one of `marks`.
        func endsWith(_ marks: String, _ s: Int, _ e: Int) -> Bool {
            var i = e
            while i > s, isSpace(i - 1) || scalars[i - 1] == "*" || scalars[i - 1] == "_" { i -= 1 }
            return i > s && marks.unicodeScalars.contains(scalars[i - 1])
        }

        mutating func flush() {
            guard let current = block else { return }
            block = nil
            var start = current.start
            let end = current.end
            var first = true
            var named = false
            // A paragraph that is one short bold line (`**Knife skills**`) is a heading in all but syntax: it is
            // read as one, below the answer's own `###` headings.
            if !current.isItem, let range = boldLine(start, end) {
                blocks.append(BlockInfo(kind: .heading, indent: 0, level: 4, endsWithColon: endsWithColon(start, end)))
                emit(range, kind: .heading)
                section = plain(range)
                return
            }
            blocks.append(BlockInfo(kind: current.isItem ? .listItem : .paragraph, indent: current.indent, level: 0,
                                    endsWithColon: endsWithColon(start, end),
                                    endsWithSentence: endsWith(".!?", start, end)))
            if let (leadRange, rest) = leadIn(start, end) {
                emit(leadRange, kind: .item)
                output[output.count - 1].isLeadIn = true
                named = true
                section = plain(leadRange)
                start = rest
                first = false
            }
            for sentence in sentences(start, end) {
                // A block whose lead-in names its point explains that point: its sentences split into clauses
                // only where each clause stands alone (at least four content words: "Ensure your workspace is
                // well-lit ..., and keep your cutting area clean and dry"); the examples it lists, and shorter
                // pieces, stay in their sentence.
                var clauses = self.clauses(sentence)
                if named, clauses.count > 1, !clauses.allSatisfy({ range in
                    Tokenizer.tokens(scalars, in: range).filter { !StopWords.contains($0.text.lowercased()) }.count >= 4
                }) { clauses = [sentence] }
                if clauses.count == 1 {
                    emit(clauses[0], kind: first && current.isItem ? .item : .sentence)
                } else {
                    for clause in clauses { emit(clause, kind: .clause, sentence: sentence) }
                }
                first = false
            }
        }

        /// `**X**` or `__X__` alone on one line, at most eight words, not a sentence, no marks inside: the range
        /// of X.
        func boldLine(_ s: Int, _ e: Int) -> Range<Int>? {
            var a = s, b = e
            while a < b, isSpace(a) { a += 1 }
            while b > a, isSpace(b - 1) { b -= 1 }
            guard b - a > 4, scalars[a] == scalars[a + 1], scalars[a] == "*" || scalars[a] == "_",
                  scalars[b - 1] == scalars[a], scalars[b - 2] == scalars[a] else { return nil }
            let mark = scalars[a]
            let inner = (a + 2)..<(b - 2)
            guard !scalars[inner].contains(mark), !scalars[inner].contains("\n"),
                  !endsWith(".!?", inner.lowerBound, inner.upperBound),
                  let range = trimmed(inner.lowerBound, inner.upperBound),
                  Tokenizer.tokens(scalars.string(range)).count <= 8 else { return nil }
            return range
        }

        /// A bold lead-in at the start of a block: `**X:** rest`, `**X**: rest`, `**X** - rest`, `**X.** rest`,
        /// `**X**. rest`.
        func leadIn(_ s: Int, _ e: Int) -> (Range<Int>, Int)? {
            guard e - s > 4 else { return nil }
            let m = scalars[s]
            guard (m == "*" || m == "_"), scalars[s + 1] == m else { return nil }
            var i = s + 2
            let limit = min(e - 1, s + 160)
            while i < limit {
                if scalars[i] == m, scalars[i + 1] == m { break }
                if scalars[i] == "\n" { return nil }
                i += 1
            }
            guard i < limit else { return nil }
            let innerStart = s + 2
            var innerEnd = i
            var after = i + 2
            var colonInside = false
            while innerEnd > innerStart, scalars[innerEnd - 1] == ":" || isSpace(innerEnd - 1) {
                if scalars[innerEnd - 1] == ":" { colonInside = true }
                innerEnd -= 1
            }
            var j = after
            while j < e, isSpace(j) { j += 1 }
            // A bold sentence that opens the block names its point too: `**Keep a schedule.** Go to bed ...`.
            let sentenceInside = innerEnd > innerStart && ".!?".unicodeScalars.contains(scalars[innerEnd - 1])
            if sentenceInside, scalars[innerEnd - 1] == "." { innerEnd -= 1 }
            var separated = colonInside || sentenceInside
            if j < e, scalars[j] == ":" || scalars[j] == "-" || scalars[j] == "\u{2013}" || scalars[j] == "\u{2014}"
                || (scalars[j] == "." && j + 1 < e && isSpace(j + 1)) {
                separated = true
                j += 1
                while j < e, isSpace(j) { j += 1 }
            }
            after = j
            guard separated, after < e, let lead = trimmed(innerStart, innerEnd) else { return nil }
            return (lead, after)
        }

        /// Sentence ranges within `s..<e`.
        func sentences(_ s: Int, _ e: Int) -> [Range<Int>] {
            var result: [Range<Int>] = []
            var sentenceStart = s
            var i = s
            var quoteDepth = 0
            while i < e {
                let c = scalars[i]
                if c == "\u{201C}" { quoteDepth += 1 } else if c == "\u{201D}" { quoteDepth = max(0, quoteDepth - 1) }
                if c == "." || c == "!" || c == "?" || c == "\u{061F}" || c == "\u{06D4}" || c == "\u{3002}"
                    || c == "\u{FF01}" || c == "\u{FF1F}" {
                    var j = i + 1
                    while j < e, ".!?\"'\u{201D}\u{2019})]*_".unicodeScalars.contains(scalars[j]) { j += 1 }
                    if j == e {
                        break
                    }
                    if isSpace(j) {
                        var k = j
                        while k < e, isSpace(k) { k += 1 }
                        let next = scalars[k]
                        // A capital, a digit, an opening mark, or a letter of a script without case (Arabic,
                        // Hebrew, CJK) opens a sentence.
                        let opensSentence = next.properties.isUppercase || next.properties.numericType == .decimal
                            || (next.properties.isAlphabetic && !next.properties.isLowercase
                                && !next.properties.changesWhenUppercased)
                            || "\"'\u{201C}\u{2018}(*_[`".unicodeScalars.contains(next)
                        if opensSentence, !(c == "." && isAbbreviation(before: i, from: sentenceStart)) {
                            if let range = trimmed(sentenceStart, j) { result.append(range) }
                            sentenceStart = k
                            i = k
                            continue
                        }
                    }
                }
                i += 1
            }
            if let range = trimmed(sentenceStart, e) { result.append(range) }
            return result
        }

        func isAbbreviation(before dot: Int, from s: Int) -> Bool {
            var w = dot
            while w > s, Tokenizer.isWordScalar(scalars[w - 1]) || scalars[w - 1] == "." { w -= 1 }
            guard w < dot else { return false }
            let word = scalars.string(w..<dot).lowercased()
            if word.unicodeScalars.count == 1, scalars[w].properties.isUppercase { return true } // initial: C.
            return abbreviations.contains(word)
        }

        /// Clause ranges of one sentence (the sentence itself when it does not enumerate points).
        func clauses(_ sentence: Range<Int>) -> [Range<Int>] {
            var cuts: [Int] = []
            var depth = 0
            var inStraightQuote = false
            var curly = 0
            for i in sentence {
                switch scalars[i] {
                case "(", "[", "{": depth += 1
                case ")", "]", "}": depth = max(0, depth - 1)
                case "\"": inStraightQuote.toggle()
                case "\u{201C}": curly += 1
                case "\u{201D}": curly = max(0, curly - 1)
                case ",", ";":
                    guard depth == 0, !inStraightQuote, curly == 0 else { break }
                    if scalars[i] == ",", i > sentence.lowerBound, i + 1 < sentence.upperBound,
                       scalars[i - 1].properties.numericType == .decimal,
                       scalars[i + 1].properties.numericType == .decimal { break }
                    cuts.append(i)
                default: break
                }
            }
            // Coordinated adjectives ("a small, blunt knife") are one noun phrase: no cut after "a small". (Only a
            // few scalars either side of the comma are read, so a long sentence with many commas stays linear.)
            cuts.removeAll { cut in
                let window = max(sentence.lowerBound, cut - 40)..<cut
                let before = Tokenizer.tokens(scalars, in: window).suffix(2).map { $0.text.lowercased() }
                guard before.count == 2, Segmenter.determiners.contains(before[0]), Segmenter.isAdjective(before[1]),
                      let next = Tokenizer.tokens(scalars, in: (cut + 1)..<min(sentence.upperBound, cut + 41)).first?
                        .text.lowercased()
                else { return false }
                return !Segmenter.determiners.contains(next) && !["and", "or", "but"].contains(next)
            }
            guard !cuts.isEmpty else { return [sentence] }
            var fragments: [Range<Int>] = []
            var start = sentence.lowerBound
            for cut in cuts + [sentence.upperBound] {
                if let range = trimmedClause(start, cut) { fragments.append(range) }
                start = cut + 1
            }
            // A serial list ("X, Y, and Z") enumerates parallel points, whatever words open them; elsewhere a
            // fragment has to stand on its own to be a point.
            let lastCut = cuts[cuts.count - 1] + 1
            let tail = scalars.string(lastCut..<min(sentence.upperBound, lastCut + 5)).lowercased()
            // A leading dependent phrase ("If you're new to dicing, ...") is no item of a list, nor is a leading
            // transition ("Remember, ...").
            let firstWords = Tokenizer.tokens(scalars, in: fragments[0]).map { $0.text.lowercased() }
            let opensDependent = firstWords.first.map(Segmenter.leadingOpeners.contains) ?? false
            let opensTransition = fragments.count > 1 && firstWords.count <= 4 && Segmenter.isTransition(firstWords)
            let items = fragments.count - (opensDependent || opensTransition ? 1 : 0)
            let serial = items >= 4 || items >= 3 && (tail.hasPrefix(" and ") || tail.hasPrefix(" or ")
                                                      || tail.hasPrefix("and ") || tail.hasPrefix("or "))
            let minimumContent = serial ? 2 : 3
            struct Group {
                var range: Range<Int>, weak: Bool, listOpen: Bool, closed = false
                /// The list its cue opened is of gerunds ("such as reading a book, going for a walk").
                var gerundList = false
            }
            var groups: [Group] = []
            for fragment in fragments {
                let tokens = Tokenizer.tokens(scalars, in: fragment)
                let lower = tokens.map { $0.text.lowercased() }
                let content = lower.filter { !StopWords.contains($0) }.count
                // (A capital that opens the sentence does not make a name: "Remember, ...".)
                let nameOnly = !tokens.isEmpty && !(groups.isEmpty && tokens.count == 1)
                    && zip(tokens, lower).allSatisfy { token, word in
                        token.isCapitalized || token.hasDigit || word == "and" || word == "or"
                    }
                let hasCue = lower.contains { listCues.contains($0) }
                    || zip(lower, lower.dropFirst()).contains { $0 == "such" && $1 == "as" }
                // Examples in gerunds after a cue ("such as reading a book, going for a walk, or practicing a
                // hobby") are one list: each later gerund of the list is an example, not a point of its own.
                let afterCue = lower.indices.first { n in
                    listCues.contains(lower[n]) || lower[n] == "as" && n > 0 && lower[n - 1] == "such"
                }.flatMap { n in n + 1 < lower.count ? lower[n + 1] : nil }
                let gerundCue = afterCue.map(Segmenter.isGerund) ?? false
                let head = lower.first == "and" || lower.first == "or" ? lower.dropFirst().first : lower.first
                let gerund = head.map(Segmenter.isGerund) ?? false
                // A fragment that opens with a cue ("e.g. with p99 latency"), a dependent word ("which can
                // provide more control", "just past the handle") or a participle ("tucking your fingertips
                // under") elaborates on the one before; so does one with fewer than three content words.
                let opener = lower.first ?? ""
                // A relative clause ("which is easier to control") elaborates even in a list.
                let elaborates = listCues.contains(opener) || opener == "i.e" || opener == "ie"
                    || opener == "such" && lower.count > 1 && lower[1] == "as"
                    || Segmenter.relativeOpeners.contains(opener)
                    || (!serial && Segmenter.dependentOpeners.contains(opener))
                    || (!serial && opener.hasSuffix("ing") && opener.count > 4 && !groups.isEmpty)
                // A leading dependent phrase opens the sentence, or a clause after a conjunction ("..., but with a
                // little practice, you can ..."): either way it joins the clause after it.
                // (`trimmedClause` has dropped the conjunction; it is read back from the text before the fragment.)
                let conjoined = !serial && !groups.isEmpty && Tokenizer.tokens(
                    scalars, in: max(sentence.lowerBound, fragment.lowerBound - 6)..<fragment.lowerBound
                ).last.map { ["but", "and", "so", "yet"].contains($0.text.lowercased()) } == true
                let leading = (groups.isEmpty || conjoined) && Segmenter.leadingOpeners.contains(opener)
                if groups.isEmpty, fragments.count > 1, tokens.count <= 4, Segmenter.isTransition(lower),
                   Tokenizer.tokens(scalars, in: fragments[1].lowerBound..<sentence.upperBound).count >= 3 {
                    groups.append(Group(range: fragment, weak: false, listOpen: false, closed: true))
                    continue
                }
                if var last = groups.last, !last.closed, !(conjoined && leading) {
                    let inList = last.listOpen && (nameOnly || last.gerundList && gerund)
                    if inList || last.weak || (content < minimumContent && !nameOnly) || elaborates {
                        last.range = last.range.lowerBound..<fragment.upperBound
                        last.weak = last.weak && content < minimumContent
                        last.gerundList = last.listOpen ? last.gerundList : hasCue && gerundCue
                        last.listOpen = last.listOpen || hasCue
                        groups[groups.count - 1] = last
                        continue
                    }
                }
                groups.append(Group(range: fragment, weak: (content < minimumContent && !nameOnly) || leading,
                                    listOpen: hasCue, gerundList: hasCue && gerundCue))
            }
            if groups.count > 1, groups[groups.count - 1].weak, !groups[groups.count - 2].closed {
                let last = groups.removeLast()
                groups[groups.count - 1].range = groups[groups.count - 1].range.lowerBound..<last.range.upperBound
            }
            if groups.count == 1 { return [sentence] }
            return groups.map(\.range)
        }

        /// Trims white space and Markdown emphasis, and drops trailing sentence punctuation.
        func trimmed(_ s: Int, _ e: Int) -> Range<Int>? {
            var a = s, b = e
            while a < b, isSpace(a) || scalars[a] == "*" || scalars[a] == "_" || scalars[a] == "\u{FEFF}" { a += 1 }
            while b > a, isSpace(b - 1) || ".,;:!?*_\u{061F}\u{06D4}\u{3002}\u{FF01}\u{FF1F}".unicodeScalars.contains(scalars[b - 1]) {
                b -= 1
            }
            // Keep a closing bracket or quote that has its opening partner inside.
            guard a < b else { return nil }
            guard scalars[a..<b].contains(where: Tokenizer.isWordScalar) else { return nil }
            // An emphasis that opens the statement and closes inside it ("**Always** curl ...") keeps its
            // opening marks, and one that opens inside and closes at the end keeps its closing marks: a quote
            // never shows half of a pair ("Always** curl ...").
            for mark in ["*", "_"] as [Unicode.Scalar] {
                var opened = 0
                while a - opened > s, scalars[a - opened - 1] == mark { opened += 1 }
                if opened > 0, let first = scalars[a..<b].firstIndex(of: mark) {
                    var run = 0
                    while first + run < b, scalars[first + run] == mark { run += 1 }
                    if run == opened { a -= opened }
                }
                var closed = 0
                while b + closed < e, scalars[b + closed] == mark { closed += 1 }
                if closed > 0, let last = scalars[a..<b].lastIndex(of: mark) {
                    var run = 0
                    while last - run >= a, scalars[last - run] == mark { run += 1 }
                    if run == closed && last - run + 1 > a { b += closed }
                }
            }
            return a..<b
        }

        /// Like `trimmed`, and drops a leading conjunction (`and`, `or`, `as well as`).
        func trimmedClause(_ s: Int, _ e: Int) -> Range<Int>? {
            guard var range = trimmed(s, e) else { return nil }
            for lead in ["and ", "or ", "as well as ", "and/or ", "plus ", "but "] {
                let count = lead.unicodeScalars.count
                if range.count > count,
                   scalars.string(range.lowerBound..<(range.lowerBound + count)).lowercased() == lead {
                    range = (range.lowerBound + count)..<range.upperBound
                    return trimmed(range.lowerBound, range.upperBound)
                }
            }
            return range
        }

        func plain(_ range: Range<Int>) -> String {
            String(String.UnicodeScalarView(scalars[range].filter { $0 != "*" && $0 != "_" && $0 != "`" }))
        }

        mutating func emit(_ range: Range<Int>, kind: Statement.Kind, sentence: Range<Int>? = nil) {
            output.append(Statement(answerIndex: answerIndex, start: range.lowerBound, end: range.upperBound,
                                    text: scalars.string(range), kind: kind,
                                    section: kind == .heading ? nil : section, sentence: sentence,
                                    block: blocks.count - 1, blockKind: blocks[blocks.count - 1].kind))
            blocks[blocks.count - 1].statements.append(output.count - 1)
        }
    }
}
