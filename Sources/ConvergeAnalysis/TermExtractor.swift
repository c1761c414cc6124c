import ConvergeCore

/// One mention of a term in one answer. `start..<end` are Unicode scalar offsets into that answer.
public struct TermMention: Sendable, Hashable {
    public enum Kind: String, Sendable { case name, title, quantity }
    public var answerIndex: Int
    public var start: Int
    public var end: Int
    /// The exact words (`C#`, `Clean Code`, `5-8+ years`).
    public var text: String
    public var kind: Kind
    /// Identity across answers: case-sensitive for one-word names (`Go` is not `go`), case-folded for
    /// multi-word names and titles, normalised value and stemmed unit for quantities (`5+ year`).
    public var key: String
    /// For quantities: the stemmed unit (`year`), and the normalised value (`5+`).
    public var unit: String?
    public var value: String?
}

/// Finds named things, quoted titles and quantities in answers (ARCHITECTURE.md, "Terms").
///
/// Names are case-aware: a capitalised word counts as a name where it is not the first word of a sentence,
/// line or list item, or where it has inner capitals, digits or symbols (`AWS`, `gRPC`, `C#`, `Node.js`);
/// a sentence-initial capitalised word counts only if the panel also uses it as a name elsewhere. Adjacent
/// capitalised words join (`Clean Code`, `Designing Data-Intensive Applications`), and so do `of`/`the`/`for`
/// between them. `A/B` forms naming two things (`SQL/NoSQL`, `REST/gRPC`) split in two, while fixed
/// compounds (`CI/CD`, `TCP/IP`, `UI/UX`, `I/O`) stay whole. Quoted text of up to 12 words, mostly
/// capitalised, is a title. A quantity is a number, range or bound (`5`, `5+`, `5-8+`, `5 to 8`, `3.5`, `40%`)
/// with its unit, the word that follows (`5+ years`). Linear in the length of the answers.
public struct TermExtractor: Sendable {
    public init() {}

    static let connectors: Set<String> = ["of", "the", "for", "de"]
    static let fixedSlashCompounds: Set<String> = ["ci/cd", "tcp/ip", "ui/ux", "i/o", "a/b", "pl/sql", "b2b/b2c",
                                                   "24/7", "w/o", "n/a", "r/w", "ux/ui"]
    /// Ordinary words that often open a sentence (imperatives, adverbs); never the first word of a name there.
    /// Units that make a spelled-out number a quantity (`five years`); other words after `one`, `two` are not.
    static let spelledUnits: Set<String> = ["years", "year", "months", "month", "weeks", "week", "days", "day", "hours",
                                            "hour", "minutes", "minute", "seconds", "second", "times", "percent"]
    static let commonOpeners: Set<String> = [
        "put", "use", "add", "make", "take", "get", "set", "keep", "let", "try", "consider", "start", "build", "run",
        "avoid", "learn", "read", "write", "choose", "focus", "ensure", "understand", "know", "think", "remember",
        "being", "also", "first", "finally", "next", "however", "additionally", "overall", "here", "this", "these",
        "many", "most", "some", "each", "every", "another", "one", "strong", "deep", "good", "great", "familiar",
        "essential", "key", "important", "leads", "drives", "beyond", "including", "like", "while", "although",
    ]

    /// Mentions in every answer; `statements` gives where headings are (their words are not names).
    public func mentions(answers: [[Unicode.Scalar]], statements: [Statement]) -> [TermMention] {
        var headingRanges = [[Range<Int>]](repeating: [], count: answers.count)
        for statement in statements where statement.kind == .heading {
            headingRanges[statement.answerIndex].append(statement.start..<statement.end)
        }
        var candidates: [(mention: TermMention, strong: Bool)] = []
        var strongNames = Set<String>()
        let tokensOfAnswer = answers.map { Tokenizer.tokens($0, in: 0..<$0.count) }
        // Words the panel writes in lower case: a capitalised one at a sentence start is that word.
        var lowercaseWords = Set<String>()
        for tokens in tokensOfAnswer {
            for token in tokens where token.text.unicodeScalars.first?.properties.isLowercase == true {
                lowercaseWords.insert(token.text)
            }
        }
        var statementRanges = [[Range<Int>]](repeating: [], count: answers.count)
        for statement in statements { statementRanges[statement.answerIndex].append(statement.start..<statement.end) }
        for (a, scalars) in answers.enumerated() {
            // Only words of statements count: not code blocks, not link targets.
            let inStatements = SortedRanges(statementRanges[a])
            let tokens = tokensOfAnswer[a].filter { token in
                inStatements.contains(token.start) && !(token.start >= 2 && scalars[token.start - 1] == "/"
                    && scalars[token.start - 2] == "/")
                    && !(token.start >= 2 && scalars[token.start - 1] == "(" && scalars[token.start - 2] == "]")
            }
            let titles = quotedTitles(scalars, answer: a).filter { inStatements.contains($0.start) }
            candidates += titles.map { ($0, true) }
            let quantities = self.quantities(scalars, tokens: tokens, answer: a)
            candidates += quantities.map { ($0, true) }
            let covered = (titles + quantities).map { $0.start..<$0.end }
            for name in names(scalars, tokens: tokens, answer: a, headings: headingRanges[a], skip: covered,
                              lowercaseWords: lowercaseWords) {
                candidates.append(name)
                if name.strong { strongNames.insert(name.mention.key) }
            }
        }
        return candidates.filter { $0.strong || strongNames.contains($0.mention.key) }.map(\.mention)
    }

    // MARK: Names

    private func names(_ scalars: [Unicode.Scalar], tokens: [Token], answer: Int, headings: [Range<Int>],
                       skip: [Range<Int>], lowercaseWords: Set<String>) -> [(mention: TermMention, strong: Bool)] {
        var result: [(TermMention, Bool)] = []
        var run: [(token: Token, strong: Bool)] = []
        let skip = SortedRanges(skip), headings = SortedRanges(headings)
        func inside(_ token: Token, _ ranges: SortedRanges) -> Bool { ranges.contains(token.start) }
        func closeRun() {
            // Connectors may not end a run.
            while let last = run.last, Self.connectors.contains(last.token.text.lowercased()) { run.removeLast() }
            // "Put Redis in front": a sentence-initial ordinary word does not open a longer name.
            if run.count > 1, !run[0].strong {
                let opener = run[0].token.text.lowercased()
                if lowercaseWords.contains(opener) || Self.commonOpeners.contains(opener) { run.removeFirst() }
            }
            defer { run.removeAll() }
            guard !run.isEmpty else { return }
            let first = run[0].token, last = run[run.count - 1].token
            let strong = run.contains { $0.strong }
            // Slash forms never reach a run (they are split where they are read), so a run is one name.
            result.append((mention(scalars, first.start, last.end, answer), strong))
        }
        var initialStopWordEnd = -2
        for token in tokens {
            if inside(token, skip) { closeRun(); continue }
            // "The Team uses...": the word after a sentence-initial "The" is still at the start.
            let followsInitialStopWord = token.start == initialStopWordEnd + 1
            if token.isCapitalized, StopWords.contains(token.text.lowercased()), isSentenceInitial(scalars, token.start) {
                initialStopWordEnd = token.end
            }
            let lower = token.text.lowercased()
            let adjacent = run.last.map { token.start == $0.token.end + 1 && scalars[$0.token.end] == " " } ?? false
            if !adjacent { closeRun() }
            let nameLike = isNameLike(token) && !(StopWords.contains(lower) && token.text.unicodeScalars.count < 4
                && !hasInnerCapital(token))
            if nameLike {
                let initial = followsInitialStopWord || isSentenceInitial(scalars, token.start)
                let inHeading = inside(token, headings)
                let strong = hasInnerCapital(token) || hasSymbol(token) || (!initial && !inHeading && token.text != "I")
                if token.text == "I" || (StopWords.contains(lower) && run.isEmpty) {
                    closeRun()
                } else if splitSlash(token).count > 1 {
                    // `REST/gRPC` names two things; it never joins a longer name.
                    closeRun()
                    for part in splitSlash(token) {
                        result.append((mention(scalars, part.lowerBound, part.upperBound, answer), strong))
                    }
                } else {
                    run.append((token, strong))
                }
            } else if !run.isEmpty, adjacent, Self.connectors.contains(lower) {
                run.append((token, false))
            } else {
                closeRun()
            }
        }
        closeRun()
        return result
    }

    /// Ranges sorted by start, for containment queries in O(log n).
    struct SortedRanges {
        let ranges: [Range<Int>]
        init(_ ranges: [Range<Int>]) { self.ranges = ranges.sorted { $0.lowerBound < $1.lowerBound } }

        func contains(_ offset: Int) -> Bool {
            // The last range starting at or before `offset`, and any earlier one still open (nesting is rare).
            var low = 0, high = ranges.count
            while low < high {
                let mid = (low + high) / 2
                if ranges[mid].lowerBound <= offset { low = mid + 1 } else { high = mid }
            }
            var i = low - 1
            while i >= 0, i >= low - 4 {
                if ranges[i].contains(offset) { return true }
                i -= 1
            }
            return false
        }
    }

    private func isNameLike(_ token: Token) -> Bool {
        guard let first = token.text.unicodeScalars.first, first.properties.numericType == nil else { return false }
        return token.isCapitalized || hasInnerCapital(token)
    }

    private func hasInnerCapital(_ token: Token) -> Bool {
        token.text.unicodeScalars.dropFirst().contains { $0.properties.isUppercase }
    }

    private func hasSymbol(_ token: Token) -> Bool {
        token.text.unicodeScalars.contains { $0 == "#" || $0 == "+" }
    }

    /// Whether only white space, Markdown markup, list markers or opening marks stand between `offset` and the
    /// start of the text, a line, or the end of a sentence.
    private func isSentenceInitial(_ scalars: [Unicode.Scalar], _ offset: Int) -> Bool {
        var i = offset - 1
        while i >= 0 {
            let c = scalars[i]
            switch c {
            case " ", "\t", "*", "_", "`", "\"", "\u{201C}", "'", "\u{2018}", "(", "[", "#", ">", "-", "+", "\r", "\u{FEFF}", ")":
                i -= 1
            case "\n", ".", "!", "?", ":", "|":
                return true
            default:
                if c.properties.numericType == .decimal, i + 1 < scalars.count, scalars[i + 1] == "." || scalars[i + 1] == ")" {
                    return true
                }
                return c.properties.isWhitespace ? { i -= 1; return isSentenceInitial(scalars, i + 1) }() : false
            }
        }
        return true
    }

    /// `SQL/NoSQL` → `SQL`, `NoSQL`; fixed compounds and short pairs (`CI/CD`) stay whole.
    private func splitSlash(_ token: Token) -> [Range<Int>] {
        let scalars = Array(token.text.unicodeScalars)
        guard scalars.contains("/"), !Self.fixedSlashCompounds.contains(token.text.lowercased()) else {
            return [token.start..<token.end]
        }
        var parts: [Range<Int>] = []
        var start = 0
        for (i, s) in scalars.enumerated() where s == "/" {
            parts.append(start..<i)
            start = i + 1
        }
        parts.append(start..<scalars.count)
        let nameParts = parts.allSatisfy { range in
            guard let first = range.first else { return false }
            return scalars[first].properties.isUppercase
                || scalars[range].dropFirst().contains { $0.properties.isUppercase }
        }
        guard nameParts, !parts.allSatisfy({ $0.count <= 2 }) else { return [token.start..<token.end] }
        return parts.map { (token.start + $0.lowerBound)..<(token.start + $0.upperBound) }
    }

    private func mention(_ scalars: [Unicode.Scalar], _ start: Int, _ end: Int, _ answer: Int) -> TermMention {
        let text = scalars.string(start..<end)
        let words = text.split(separator: " ")
        let key = words.count > 1 ? Self.foldedKey(text) : text
        return TermMention(answerIndex: answer, start: start, end: end, text: text, kind: .name, key: key)
    }

    static func foldedKey(_ text: String) -> String {
        Tokenizer.tokens(text).map { $0.text.lowercased().replacingOccurrences(of: "-", with: " ") }
            .joined(separator: " ")
    }

    // MARK: Titles

    private func quotedTitles(_ scalars: [Unicode.Scalar], answer: Int) -> [TermMention] {
        var result: [TermMention] = []
        var open: (Int, Unicode.Scalar)?
        for i in scalars.indices {
            let c = scalars[i]
            if c == "\n" { open = nil; continue }
            if let (start, mark) = open {
                let closes = (mark == "\"" && c == "\"") || (mark == "\u{201C}" && c == "\u{201D}")
                guard closes else { continue }
                open = nil
                var a = start + 1, b = i
                while a < b, scalars[a] == " " { a += 1 }
                while b > a, scalars[b - 1] == " " || ".,;:".unicodeScalars.contains(scalars[b - 1]) { b -= 1 }
                let tokens = Tokenizer.tokens(scalars, in: a..<b)
                guard (1...12).contains(tokens.count), tokens[0].isCapitalized else { continue }
                let significant = tokens.filter { !StopWords.contains($0.text.lowercased()) }
                let capitalized = significant.filter { $0.isCapitalized || $0.hasDigit }.count
                guard !significant.isEmpty, capitalized * 2 >= significant.count * 1 + (significant.count > 2 ? 1 : 0)
                else { continue }
                let text = scalars.string(a..<b)
                result.append(TermMention(answerIndex: answer, start: a, end: b, text: text, kind: .title,
                                          key: Self.foldedKey(text)))
            } else if c == "\"" || c == "\u{201C}" {
                open = (i, c)
            }
        }
        return result
    }

    // MARK: Quantities

    private func quantities(_ scalars: [Unicode.Scalar], tokens: [Token], answer: Int) -> [TermMention] {
        var result: [TermMention] = []
        var t = 0
        let stemmer = EnglishStemmer()
        while t < tokens.count {
            let token = tokens[t]
            // Number words before a unit of time or a count: `five years`.
            if let digits = FeatureExtractor.numberWords[token.text.lowercased()], t + 1 < tokens.count,
               Self.spelledUnits.contains(tokens[t + 1].text.lowercased()), tokens[t + 1].start == token.end + 1 {
                let unit = stemmer.stem(tokens[t + 1].text.lowercased())
                result.append(TermMention(answerIndex: answer, start: token.start, end: tokens[t + 1].end,
                                          text: scalars.string(token.start..<tokens[t + 1].end), kind: .quantity,
                                          key: "\(digits) \(unit)", unit: unit, value: digits))
                t += 2
                continue
            }
            guard token.text.unicodeScalars.first?.properties.numericType == .decimal,
                  token.text.unicodeScalars.allSatisfy({ $0.properties.numericType == .decimal || "+-.,".unicodeScalars.contains($0) })
            else { t += 1; continue }
            var start = token.start
            var end = token.end
            var value = token.text
            var next = t + 1
            if start > 0, "$€£".unicodeScalars.contains(scalars[start - 1]) {
                start -= 1
                value = String(scalars[start]) + value
            }
            // A range written with spaces or an en dash: `5 to 8`, `5–8`.
            if next < tokens.count, tokens[next].text.unicodeScalars.first?.properties.numericType == .decimal {
                let gap = scalars.string(end..<tokens[next].start)
                if ["–", "—", " – ", " - ", "-"].contains(gap) {
                    value += "-" + tokens[next].text
                    end = tokens[next].end
                    next += 1
                }
            } else if next + 1 < tokens.count, tokens[next].text.lowercased() == "to",
                      tokens[next + 1].text.unicodeScalars.first?.properties.numericType == .decimal,
                      tokens[next].start == end + 1, tokens[next + 1].start == tokens[next].end + 1 {
                value += "-" + tokens[next + 1].text
                end = tokens[next + 1].end
                next += 2
            }
            if end < scalars.count, scalars[end] == "+" { value += "+"; end += 1 }
            var unit: String?
            if end < scalars.count, scalars[end] == "%" {
                unit = "%"; end += 1
            } else if next < tokens.count, tokens[next].start == end + 1, scalars[end] == " " {
                let word = tokens[next].text
                let lower = word.lowercased()
                if !StopWords.contains(lower), lower.unicodeScalars.allSatisfy({ $0.properties.isAlphabetic }),
                   !tokens[next].isCapitalized || word.count <= 3 {
                    unit = stemmer.stem(lower)
                    end = tokens[next].end
                    next += 1
                }
            }
            if let unit {
                let text = scalars.string(start..<end)
                let normalized = value.replacingOccurrences(of: ",", with: "")
                result.append(TermMention(answerIndex: answer, start: start, end: end, text: text, kind: .quantity,
                                          key: "\(normalized) \(unit)", unit: unit, value: normalized))
            }
            t = max(next, t + 1)
        }
        return result
    }
}
