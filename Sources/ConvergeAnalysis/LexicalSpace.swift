import ConvergeCore

/// The lexical representation of a panel's statements and rubric items: sparse TF-IDF vectors over
/// Snowball-stemmed content words.
///
/// - Features: content words (stop words dropped), split at `-` `/` `_` `&`, possessive `'s` removed,
///   stemmed with `EnglishStemmer` (Porter2); technical names with `.`, `#` or `+` kept whole (`node.js`, `c#`);
///   numbers reduced to their digit runs (`5-8+` → `5`, `8`) and English number words read as digits
///   (`five` → `5`).
/// - Weights: binary term frequency times a smoothed inverse document frequency computed over the panel's
///   statements and the rubric items, `idf(t) = ln((1 + D) / (1 + df(t))) + 1` (the smoothed form used by
///   scikit-learn's TfidfVectorizer), so that words every answer uses ("engineer", "senior") weigh little.
///   For statement similarity, words of the prompt weigh `promptWeight` times as much (repeating the question
///   is not agreement), and so do facet words that frame a point without being it ("skills", "knowledge",
///   "strong", "understanding": "system design skills" and "system design principles" make one point).
///   Rubric items are weighted the same way: an item's words that the prompt already says ("backend",
///   "programming languages") are context an answer need not repeat.
/// - Vectors are sorted by feature id; cosine similarity is a merge of two sorted lists.
public struct LexicalSpace: Sendable {
    public struct Vector: Sendable {
        /// (feature id, weight), sorted by feature id.
        public var entries: [(Int, Double)]
        public var norm: Double
        public var isEmpty: Bool { entries.isEmpty }
    }

    public static let promptWeight = 0.3

    /// Vectors of the statements, in the order given.
    public private(set) var statements: [Vector] = []
    /// Vectors of the rubric items, in the order given.
    public private(set) var rubricItems: [Vector] = []
    /// Feature id of each stem.
    public private(set) var vocabulary: [String: Int] = [:]
    /// Inverse document frequency per feature id.
    public private(set) var idf: [Double] = []
    /// Weight per feature id in statement and rubric item vectors: `idf`, times `promptWeight` for prompt and
    /// facet words.
    public private(set) var weight: [Double] = []

    /// Whether a feature carries its full weight in statement vectors (not a prompt or facet word).
    public func isHeavy(_ feature: Int) -> Bool { weight[feature] >= idf[feature] }

    /// Words that frame a point rather than make it; stemmed on use.
    public static let facetWords = [
        "skill", "skills", "knowledge", "principle", "principles", "technique", "techniques", "practice",
        "practices", "concept", "concepts", "fundamentals", "ability", "abilities", "capability", "capabilities",
        "understanding", "understand", "proficiency", "proficient", "expertise", "mastery", "familiarity",
        "familiar", "awareness", "strong", "deep", "solid", "good", "comprehensive", "key", "important",
        "professional", "dedicated", "proven", "relevant", "hands-on",
    ]

    public init(statements: [String], rubricItems: [String] = [], prompt: String? = nil) {
        var stemmer = FeatureExtractor()
        let statementFeatures = statements.map { stemmer.features(of: $0) }
        let itemFeatures = rubricItems.map { stemmer.features(of: $0) }
        let promptFeatures = Set(prompt.map { stemmer.features(of: $0) } ?? [])

        var df: [Int] = []
        func id(_ feature: String) -> Int {
            if let existing = vocabulary[feature] { return existing }
            let new = vocabulary.count
            vocabulary[feature] = new
            df.append(0)
            return new
        }
        let statementIds = statementFeatures.map { Set($0.map(id)) }
        let itemIds = itemFeatures.map { Set($0.map(id)) }
        for ids in statementIds { for f in ids { df[f] += 1 } }
        for ids in itemIds { for f in ids { df[f] += 1 } }
        let documents = Double(statementIds.count + itemIds.count)
        var facets = Set<Int>(), prompted = Set<Int>()
        for feature in Self.facetFeatures { if let f = vocabulary[feature] { facets.insert(f) } }
        for feature in promptFeatures { if let f = vocabulary[feature] { prompted.insert(f) } }
        idf = df.map { log((1 + documents) / (1 + Double($0))) + 1 }
        weight = idf.enumerated().map { f, w in
            facets.contains(f) || prompted.contains(f) ? w * Self.promptWeight : w
        }
        self.statements = statementIds.map { Self.vector($0, weights: weight) }
        self.rubricItems = itemIds.map { Self.vector($0, weights: weight) }
    }

    /// The features of a text (stems and normalised tokens), in order of appearance, with repeats.
    public static func features(of text: String) -> [String] {
        var extractor = FeatureExtractor()
        return extractor.features(of: text)
    }

    /// Cosine similarity of two vectors, in [0, 1] (0 when either is empty).
    public static func cosine(_ a: Vector, _ b: Vector) -> Double {
        guard a.norm > 0, b.norm > 0 else { return 0 }
        return dot(a, b) / (a.norm * b.norm)
    }

    /// Share of `of`'s weight that `by` also has: sum of weights of shared features / sum of `of`'s weights.
    public static func coverage(of a: Vector, by b: Vector) -> Double {
        let total = a.entries.reduce(0) { $0 + $1.1 }
        guard total > 0 else { return 0 }
        var i = 0, j = 0, shared = 0.0
        while i < a.entries.count, j < b.entries.count {
            let (fa, wa) = a.entries[i], fb = b.entries[j].0
            if fa == fb { shared += wa; i += 1; j += 1 } else if fa < fb { i += 1 } else { j += 1 }
        }
        return shared / total
    }

    static func dot(_ a: Vector, _ b: Vector) -> Double {
        var i = 0, j = 0, sum = 0.0
        while i < a.entries.count, j < b.entries.count {
            let (fa, wa) = a.entries[i], (fb, wb) = b.entries[j]
            if fa == fb { sum += wa * wb; i += 1; j += 1 } else if fa < fb { i += 1 } else { j += 1 }
        }
        return sum
    }

    /// A vector for a new text in this space, weighted as rubric items are; features unknown to the space
    /// are dropped.
    public func vector(for text: String) -> Vector {
        var extractor = FeatureExtractor()
        return Self.vector(Set(extractor.features(of: text).compactMap { vocabulary[$0] }), weights: weight)
    }

    static func vector(_ ids: Set<Int>, weights: [Double]) -> Vector {
        let entries = ids.sorted().map { ($0, weights[$0]) }
        return Vector(entries: entries, norm: entries.reduce(0) { $0 + $1.1 * $1.1 }.squareRoot())
    }

    static let facetFeatures: Set<String> = {
        var extractor = FeatureExtractor()
        return Set(facetWords.flatMap { extractor.features(of: $0) })
    }()
}

/// Turns text into lexical features; caches stems, since answers repeat their words.
struct FeatureExtractor {
    private let stemmer = EnglishStemmer()
    private var cache: [String: String] = [:]

    static let numberWords: [String: String] = [
        "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7",
        "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12", "fifteen": "15", "twenty": "20",
        "thirty": "30", "forty": "40", "fifty": "50", "hundred": "100", "thousand": "1000",
    ]

    mutating func features(of text: String) -> [String] {
        var result: [String] = []
        for token in Tokenizer.tokens(text) {
            appendFeatures(of: token.text, to: &result)
        }
        return result
    }

    mutating func appendFeatures(of word: String, to result: inout [String]) {
        let lower = word.lowercased().replacingApostrophes
        if let first = lower.unicodeScalars.first, first.properties.numericType == .decimal {
            // Digit runs: `5-8+` -> 5, 8; `3.5` stays whole.
            var current = String.UnicodeScalarView()
            for s in lower.unicodeScalars {
                if s.properties.numericType == .decimal || (s == "." && !current.isEmpty) {
                    current.append(s)
                } else {
                    if !current.isEmpty { result.append(String(current).trimmingTrailingDots) }
                    current = String.UnicodeScalarView()
                }
            }
            if !current.isEmpty { result.append(String(current).trimmingTrailingDots) }
            return
        }
        if lower.unicodeScalars.contains(where: { $0 == "." || $0 == "#" || $0 == "+" }) {
            if !StopWords.contains(lower) { result.append(lower) }
            return
        }
        for part in lower.split(whereSeparator: { $0 == "-" || $0 == "/" || $0 == "_" || $0 == "&" }) {
            var part = String(part)
            if part.hasSuffix("'s") { part.removeLast(2) }
            if part.hasPrefix("'") { part.removeFirst() }
            if part.hasSuffix("'") { part.removeLast() }
            guard !part.isEmpty, !StopWords.contains(part) else { continue }
            if let digits = Self.numberWords[part] { result.append(digits); continue }
            guard part.unicodeScalars.count > 1 else { continue }
            if let stem = cache[part] {
                result.append(stem)
            } else {
                let stem = stemmer.stem(part)
                cache[part] = stem
                result.append(stem)
            }
        }
    }
}

extension String {
    var trimmingTrailingDots: String {
        var s = self
        while s.hasSuffix(".") { s.removeLast() }
        return s
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
