import ConvergeCore

/// Lexical similarity: cosine of TF-IDF vectors (`LexicalSpace`) between statements. For rubric items, the
/// weighted share of the item's words that a statement uses (coverage), read three ways and the best taken:
/// the whole item; its core phrase, without framing ("Strong understanding of *system design*") and without
/// optional detail ("Clean Code *by Robert C. Martin*"); and the core with its examples counted as
/// alternatives ("Cloud platforms such as AWS, Azure or GCP" is made by naming any one of them). An item
/// whose head is a title ("Clean Code") is only made by a statement that names the title, or its acronym
/// ("DDD" for "Domain-Driven Design"). For a compound item
/// (two points joined by "and"), a clause that makes at least half of it is scored with its whole sentence
/// too, so that "leading technical decisions, ..., and driving architectural choices" makes "Leading technical
/// decisions and architectural choices".
///
/// Two statements only pair when they share at least two full-weight words (not prompt or facet words), or
/// one when neither has more than one: a single shared verb ("possessing") is not the same point.
///
/// Candidate pairs come from an inverted index over features; features shared by more than
/// `maxPostings` statements are too common to propose candidates (they still count in the cosine), which
/// keeps pair generation linear in the number of statements.
public struct LexicalSimilarity: SimilarityModel {
    public var name: String { "lexical" }
    public var clusterThreshold: Double
    public var rubricThreshold: Double
    /// Word overlap misses paraphrases that share one telling word; a second pass at 0.7 × the cluster
    /// threshold, between groups of different panelists only, joins them (measured on the consolidation corpus:
    /// mean F1 0.706 without it, 0.725 with it).
    public var mergeThreshold: Double? { clusterThreshold * 0.7 }
    public var maxPostings: Int

    public init(clusterThreshold: Double = 0.45, rubricThreshold: Double = 0.6, maxPostings: Int = 128) {
        self.clusterThreshold = clusterThreshold
        self.rubricThreshold = rubricThreshold
        self.maxPostings = maxPostings
    }

    public func prepare(_ input: SimilarityInput) -> any PreparedSimilarity {
        Prepared(input: input, maxPostings: maxPostings, rubricThreshold: rubricThreshold)
    }

    struct Prepared: PreparedSimilarity {
        let space: LexicalSpace
        let answerOf: [Int]
        let postings: [[Int]]
        let maxPostings: Int
        let rubricThreshold: Double
        let items: [ItemPattern]
        let contexts: [LexicalSpace.Vector?]
        let statementWords: [[String]]
        let statementTokens: [Set<String>]
        let heavyCount: [Int]

        struct ItemPattern {
            var full: LexicalSpace.Vector
            var core: LexicalSpace.Vector
            var examples: [LexicalSpace.Vector]
            var title: [String]?
            var acronym: String?
            var compound: Bool
        }

        init(input: SimilarityInput, maxPostings: Int, rubricThreshold: Double) {
            let space = LexicalSpace(statements: input.statements, rubricItems: input.rubricItems,
                                     prompt: input.prompt)
            self.space = space
            self.answerOf = input.answerOfStatement
            self.maxPostings = maxPostings
            self.rubricThreshold = rubricThreshold
            var postings = [[Int]](repeating: [], count: space.idf.count)
            for (i, vector) in space.statements.enumerated() {
                for (f, _) in vector.entries { postings[f].append(i) }
            }
            self.postings = postings
            self.heavyCount = space.statements.map { $0.entries.filter { space.isHeavy($0.0) }.count }
            self.items = input.rubricItems.enumerated().map { n, text in
                let phrase = RubricPhrase(text)
                return ItemPattern(full: space.rubricItems[n], core: space.vector(for: phrase.core),
                                   examples: phrase.examples.map { space.vector(for: $0) }.filter { !$0.isEmpty },
                                   title: phrase.isTitle ? RubricPhrase.words(phrase.head) : nil,
                                   acronym: phrase.isTitle ? RubricPhrase.acronym(phrase.head) : nil,
                                   compound: text.contains(" and ") || text.contains(" & "))
            }
            let anyRubric = !input.rubricItems.isEmpty
            let contextVectors = anyRubric ? input.contexts.map { space.vector(for: $0) } : []
            self.contexts = anyRubric ? input.contextOfStatement.map { $0.map { contextVectors[$0] } } : []
            let titles = items.contains { $0.title != nil }
            self.statementWords = titles ? input.statements.map(RubricPhrase.words) : []
            self.statementTokens = titles ? input.statements.map { Set(Tokenizer.tokens($0).map(\.text)) } : []
        }

        func pairs(minimum: Double) -> [ScoredPair] {
            var result: [ScoredPair] = []
            var seen = Set<Int>()
            for (i, vector) in space.statements.enumerated() {
                seen.removeAll(keepingCapacity: true)
                for (f, _) in vector.entries where postings[f].count <= maxPostings {
                    for j in postings[f] where j > i && answerOf[j] != answerOf[i] {
                        guard seen.insert(j).inserted else { continue }
                        let other = space.statements[j]
                        let score = LexicalSpace.cosine(vector, other)
                        guard score >= minimum else { continue }
                        let needed = min(2, max(heavyCount[i], heavyCount[j]))
                        guard needed == 0 || sharedHeavy(vector, other, atLeast: needed) else { continue }
                        result.append(ScoredPair(a: i, b: j, score: score))
                    }
                }
            }
            return result
        }

        private func sharedHeavy(_ a: LexicalSpace.Vector, _ b: LexicalSpace.Vector, atLeast needed: Int) -> Bool {
            var i = 0, j = 0, shared = 0
            while i < a.entries.count, j < b.entries.count {
                let fa = a.entries[i].0, fb = b.entries[j].0
                if fa == fb {
                    if space.isHeavy(fa) { shared += 1; if shared >= needed { return true } }
                    i += 1; j += 1
                } else if fa < fb { i += 1 } else { j += 1 }
            }
            return false
        }

        func similarity(_ a: Int, _ b: Int) -> Double {
            LexicalSpace.cosine(space.statements[a], space.statements[b])
        }

        func relatedness(_ rows: [[Int]], _ columns: [[Int]]) -> [[Double]] {
            ThemeSpace.cosines(ThemeSpace.centroids(space.statements, groups: rows),
                               ThemeSpace.centroids(space.statements, groups: columns))
        }

        func rubricCandidates(item: Int) -> [Int] {
            var result = Set<Int>()
            for (f, _) in items[item].full.entries { result.formUnion(postings[f]) }
            if let acronym = items[item].acronym {
                result.formUnion(statementTokens.indices.filter { statementTokens[$0].contains(acronym) })
            }
            return result.sorted()
        }

        func rubricScore(item: Int, statement: Int) -> Double {
            let pattern = items[item]
            if let title = pattern.title, !RubricPhrase.contains(statementWords[statement], phrase: title) {
                if let acronym = pattern.acronym, statementTokens[statement].contains(acronym) { return 1 }
                return 0
            }
            let own = score(pattern, space.statements[statement])
            if pattern.compound, own >= rubricThreshold / 2, own < rubricThreshold, let context = contexts[statement] {
                return max(own, score(pattern, context))
            }
            return own
        }

        private func score(_ pattern: ItemPattern, _ vector: LexicalSpace.Vector) -> Double {
            var best = LexicalSpace.coverage(of: pattern.full, by: vector)
            let coreWeight = pattern.core.entries.reduce(0) { $0 + $1.1 }
            guard coreWeight > 0 else { return best }
            let coreCovered = LexicalSpace.coverage(of: pattern.core, by: vector) * coreWeight
            best = max(best, coreCovered / coreWeight)
            if !pattern.examples.isEmpty {
                // The examples count as one alternative, weighted like an average example.
                let exampleWeight = pattern.examples.reduce(0) { $0 + $1.entries.reduce(0) { $0 + $1.1 } }
                    / Double(pattern.examples.count)
                let named = pattern.examples.contains { LexicalSpace.coverage(of: $0, by: vector) >= 0.99 }
                best = max(best, (coreCovered + (named ? exampleWeight : 0)) / (coreWeight + exampleWeight))
            }
            return best
        }
    }
}

/// The parts of a rubric item's text: its head (before any qualifier), its core (the head without framing
/// words or quantifiers), its examples (the alternatives a qualifier lists), and whether the head is a title.
struct RubricPhrase {
    static let exampleQualifiers = [" such as ", " like ", " e.g., ", " e.g. ", " including ", " with ", " ("]
    static let otherQualifiers = [" by ", ", "]
    static let framing: Set<String> = [
        "strong", "deep", "solid", "good", "thorough", "broad", "basic", "advanced", "working", "practical",
        "understanding", "knowledge", "mastery", "familiarity", "experience", "proficiency", "expertise",
        "ability", "awareness", "command", "grasp", "skill", "skills", "use", "using", "of", "with", "in", "on",
    ]
    static let facetNouns: Set<String> = ["practices", "practice", "skills", "skill", "principles", "techniques",
                                          "concepts", "knowledge", "fundamentals", "basics"]
    static let quantifiers = ["one or more ", "at least one ", "two or more ", "several "]

    var head: String
    var core: String
    var examples: [String]
    var isTitle: Bool

    init(_ text: String) {
        let lower = text.lowercased()
        var cut: String.Index = lower.endIndex
        var examplesFollow = false
        for (qualifiers, listsExamples) in [(Self.exampleQualifiers, true), (Self.otherQualifiers, false)] {
            for q in qualifiers {
                if let r = lower.range(of: q), r.lowerBound > lower.startIndex, r.lowerBound < cut {
                    cut = r.lowerBound
                    examplesFollow = listsExamples
                }
            }
        }
        let offset = lower.distance(from: lower.startIndex, to: cut)
        head = String(text.prefix(offset))
        examples = []
        if examplesFollow {
            var rest = String(text.dropFirst(offset))
            for q in Self.exampleQualifiers where rest.lowercased().hasPrefix(q) {
                rest = String(rest.dropFirst(q.count))
                break
            }
            examples = rest.replacingOccurrences(of: " or ", with: ",").replacingOccurrences(of: " and ", with: ",")
                .split(whereSeparator: { $0 == "," || $0 == "/" || $0 == ")" || $0 == "(" })
                .map { String($0).trimmingWhitespace }.filter { !$0.isEmpty }
        }
        // Core: drop leading framing words ("Strong understanding of") and quantifiers ("one or more").
        var words = head.split(separator: " ").map(String.init)
        if let preposition = words.firstIndex(where: { ["of", "with", "in", "on"].contains($0.lowercased()) }),
           preposition > 0, preposition < words.count - 1,
           words[..<preposition].allSatisfy({ Self.framing.contains($0.lowercased()) }) {
            words.removeFirst(preposition + 1)
        }
        // ... and trailing facet nouns ("DevOps practices" is made by "DevOps").
        while words.count > 1, let last = words.last, Self.facetNouns.contains(last.lowercased()) { words.removeLast() }
        var core = words.joined(separator: " ")
        for q in Self.quantifiers where core.lowercased().hasPrefix(q) { core = String(core.dropFirst(q.count)) }
        self.core = core
        isTitle = Self.isTitle(head)
    }

    /// Whether every word of the phrase is capitalised and it has at least two words (`Clean Code`).
    static func isTitle(_ phrase: String) -> Bool {
        let tokens = Tokenizer.tokens(phrase)
        return tokens.count >= 2 && tokens.allSatisfy { $0.isCapitalized }
    }

    /// The initials of a title of three or more words, counting hyphenated parts (`Domain-Driven Design` →
    /// `DDD`); `nil` for shorter titles, whose initials are too ambiguous.
    static func acronym(_ title: String) -> String? {
        let words = Tokenizer.tokens(title).flatMap { $0.text.split(separator: "-") }
        guard words.count >= 3 else { return nil }
        return String(words.compactMap { $0.first?.uppercased() }.joined())
    }

    /// Lower-cased words, split at hyphens and slashes.
    static func words(_ text: String) -> [String] {
        Tokenizer.tokens(text).flatMap {
            $0.text.lowercased().split(whereSeparator: { $0 == "-" || $0 == "/" }).map(String.init)
        }
    }

    /// Whether `words` contains `phrase` as a contiguous run.
    static func contains(_ words: [String], phrase: [String]) -> Bool {
        guard !phrase.isEmpty, words.count >= phrase.count else { return false }
        for start in 0...(words.count - phrase.count) where words[start] == phrase[0] {
            if Array(words[start..<(start + phrase.count)]) == phrase { return true }
        }
        return false
    }
}
