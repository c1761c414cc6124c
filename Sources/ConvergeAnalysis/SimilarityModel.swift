import ConvergeCore

/// Two statements and how similar they are, in [0, 1]; `a < b` and the two come from different answers.
public struct ScoredPair: Sendable, Hashable {
    public var a: Int
    public var b: Int
    public var score: Double

    public init(a: Int, b: Int, score: Double) {
        self.a = a
        self.b = b
        self.score = score
    }
}

/// What a similarity model is prepared with: one panel's statements (and which answer each is from), the
/// rubric items, and the prompt.
public struct SimilarityInput: Sendable {
    public var statements: [String]
    /// For each statement, the index of the answer it comes from; pairs are only formed across answers.
    public var answerOfStatement: [Int]
    /// Whole sentences that clauses are part of (rubric items may be made by a sentence whose clauses each
    /// make part of them), each once.
    public var contexts: [String]
    /// For each statement that is a clause, the index of its sentence in `contexts`.
    public var contextOfStatement: [Int?]
    public var rubricItems: [String]
    public var prompt: String?

    public init(statements: [String], answerOfStatement: [Int], contexts: [String] = [],
                contextOfStatement: [Int?]? = nil, rubricItems: [String], prompt: String?) {
        precondition(statements.count == answerOfStatement.count)
        self.statements = statements
        self.answerOfStatement = answerOfStatement
        self.contexts = contexts
        self.contextOfStatement = contextOfStatement ?? Array(repeating: nil, count: statements.count)
        self.rubricItems = rubricItems
        self.prompt = prompt
    }
}

/// A way of telling whether two statements say the same thing, and whether a statement makes a rubric item.
///
/// The analysis is written against this protocol so that models plug in: `LexicalSimilarity` (TF-IDF) here,
/// sentence embeddings (`EmbeddingSimilarity`, `HybridSimilarity`). Each model carries the thresholds calibrated for its own score scale.
public protocol SimilarityModel: Sendable {
    /// Short name reported in `analysis.similarity` (`lexical`, `embedding`, `hybrid`).
    var name: String { get }
    /// Two statements whose similarity is at least this may form one key point.
    var clusterThreshold: Double { get }
    /// A statement whose rubric score is at least this makes the rubric item.
    var rubricThreshold: Double { get }
    /// Groups of statements from different panelists whose best pair reaches this are one key point (the second
    /// clustering pass, `KeyPointMerger`); `nil`: no second pass (the model's first pass already joins
    /// paraphrases as well as it can).
    var mergeThreshold: Double? { get }
    /// Prepares the model for one panel.
    func prepare(_ input: SimilarityInput) -> any PreparedSimilarity
    /// The sentence encoder the model reads vectors from; `nil` for a model without one (lexical).
    var sentenceEncoder: (any SentenceEncoder)? { get }
    /// The same model reading its vectors from `encoder` (a cache in front of its own); `self` when the model
    /// has no encoder.
    func replacingSentenceEncoder(_ encoder: any SentenceEncoder) -> any SimilarityModel
}

extension SimilarityModel {
    public var mergeThreshold: Double? { nil }
    public var sentenceEncoder: (any SentenceEncoder)? { nil }
    public func replacingSentenceEncoder(_ encoder: any SentenceEncoder) -> any SimilarityModel { self }
}

/// A similarity model prepared for one panel. Indices are positions in `SimilarityInput`.
public protocol PreparedSimilarity: Sendable {
    /// Every cross-answer pair with similarity >= `minimum` that the model can find, in any order.
    /// Implementations must stay near-linear in the number of statements (candidate generation, not all pairs).
    func pairs(minimum: Double) -> [ScoredPair]
    /// Similarity of two statements, in [0, 1].
    func similarity(_ a: Int, _ b: Int) -> Double
    /// Statements that may make rubric item `item` (a superset of those scoring above the threshold).
    func rubricCandidates(item: Int) -> [Int]
    /// How fully statement `statement` makes rubric item `item`, in [0, 1].
    func rubricScore(item: Int, statement: Int) -> Double
    /// How close in topic each group of statements in `rows` is to each group in `columns` (a group is a list of
    /// statement indices; result `[row][column]`, a cosine in [-1, 1]). Used to gather key points into themes, so
    /// it is not the judgement "same point": two different tips about holding a knife are related.
    func relatedness(_ rows: [[Int]], _ columns: [[Int]]) -> [[Double]]
}

extension PreparedSimilarity {
    /// The mean `similarity` over the first three statements of each group (models without vectors).
    public func relatedness(_ rows: [[Int]], _ columns: [[Int]]) -> [[Double]] {
        rows.map { row in
            columns.map { column in
                let pairs = row.prefix(3).flatMap { a in column.prefix(3).map { b in a == b ? 1 : similarity(a, b) } }
                return pairs.isEmpty ? 0 : pairs.sorted().reduce(0, +) / Double(pairs.count)
            }
        }
    }
}
