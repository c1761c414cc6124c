import Foundation

/// Evidence that a statement makes a point: the per-dimension products of their unit sentence embeddings (whose
/// sum is the cosine), TF-IDF cosine, and how much of the point's weighted words the statement uses.
public struct MatchEvidence: Sendable {
    /// `statement[d] * point[d]` for each embedding dimension.
    public var products: [Float]
    public var lexicalCosine: Double
    /// Weighted share of the point's features that the statement has (`LexicalSpace.coverage`).
    public var coverage: Double

    public init(statement: [Float], point: [Float], lexicalCosine: Double, coverage: Double) {
        precondition(statement.count == point.count)
        products = zip(statement, point).map { $0 * $1 }
        self.lexicalCosine = lexicalCosine
        self.coverage = coverage
    }

    public var cosine: Double { Double(products.reduce(0, +)) }
}

/// The learned key point matcher: a logistic model over `MatchEvidence`, a weight per embedding dimension (a
/// learned diagonal metric over frozen embeddings) plus weights for the lexical evidence. Trained on ArgKP
/// train and tuned on dev by `converge-eval kpa-train` (fixed seed); the weights ship in
/// `KeyPointMatcherWeights.swift`. Scores are match probabilities in (0, 1).
public struct KeyPointMatcher: Sendable, Codable, Equatable {
    public var dimensionWeights: [Double]
    public var lexicalWeight: Double
    public var coverageWeight: Double
    public var bias: Double
    /// Where the weights came from (command, data, seed, dev mAP).
    public var provenance: String

    public init(dimensionWeights: [Double], lexicalWeight: Double, coverageWeight: Double, bias: Double,
                provenance: String) {
        self.dimensionWeights = dimensionWeights
        self.lexicalWeight = lexicalWeight
        self.coverageWeight = coverageWeight
        self.bias = bias
        self.provenance = provenance
    }

    /// The linear score before the logistic function.
    public func logit(_ e: MatchEvidence) -> Double {
        precondition(e.products.count == dimensionWeights.count, "evidence of \(e.products.count) dimensions")
        var z = bias + lexicalWeight * e.lexicalCosine + coverageWeight * e.coverage
        for d in dimensionWeights.indices { z += dimensionWeights[d] * Double(e.products[d]) }
        return z
    }

    /// Probability that the statement makes the point, in (0, 1).
    public func score(_ e: MatchEvidence) -> Double { 1 / (1 + exp(-logit(e))) }

    /// The shipped matcher for all-MiniLM-L6-v2 (384 dimensions).
    public static let miniLM: KeyPointMatcher = KeyPointMatcherWeights.miniLM
}
