import Foundation

/// Evidence that a statement makes a point, among the points it could make: the embedding cosine, the TF-IDF
/// cosine, how much of the point's weighted words the statement uses, and the statement's mean embedding and
/// TF-IDF cosine over all its candidate points (so that a statement close to every point, a generic one,
/// counts less than one close to this point only).
public struct MatchEvidence: Sendable, Equatable {
    public var cosine: Double
    public var lexicalCosine: Double
    /// Weighted share of the point's features that the statement has (`LexicalSpace.coverage`).
    public var coverage: Double
    /// Mean of `cosine` over the statement's candidate points (this one included).
    public var meanCosine: Double
    /// Mean of `lexicalCosine` over the statement's candidate points.
    public var meanLexicalCosine: Double

    public init(cosine: Double, lexicalCosine: Double, coverage: Double, meanCosine: Double, meanLexicalCosine: Double) {
        self.cosine = cosine
        self.lexicalCosine = lexicalCosine
        self.coverage = coverage
        self.meanCosine = meanCosine
        self.meanLexicalCosine = meanLexicalCosine
    }

    /// The features the matcher weighs, in `KeyPointMatcher.weights` order.
    public var features: [Double] {
        [cosine, lexicalCosine, coverage, cosine - meanCosine, lexicalCosine - meanLexicalCosine]
    }
}

/// The learned key point matcher: logistic regression over `MatchEvidence.features`, trained on ArgKP train
/// and tuned on dev by `converge-eval kpa-train` (fixed seed); the weights ship in
/// `KeyPointMatcherWeights.swift`. Scores are match probabilities in (0, 1).
public struct KeyPointMatcher: Sendable, Codable, Equatable {
    /// Weights of cosine, lexical cosine, coverage, centred cosine, centred lexical cosine.
    public var weights: [Double]
    public var bias: Double
    /// Where the weights came from (command, data, seed, dev mAP).
    public var provenance: String

    public init(weights: [Double], bias: Double, provenance: String) {
        precondition(weights.count == 5)
        self.weights = weights
        self.bias = bias
        self.provenance = provenance
    }

    /// The linear score before the logistic function.
    public func logit(_ e: MatchEvidence) -> Double {
        zip(weights, e.features).reduce(bias) { $0 + $1.0 * $1.1 }
    }

    /// Probability that the statement makes the point, in (0, 1).
    public func score(_ e: MatchEvidence) -> Double { 1 / (1 + exp(-logit(e))) }

    /// The shipped matcher for all-MiniLM-L6-v2.
    public static let miniLM: KeyPointMatcher = KeyPointMatcherWeights.miniLM

    /// The shipped matcher for all-MiniLM-L6-v2 with the ArgKP adapter merged (`all-MiniLM-L6-v2+argkp`),
    /// fitted on the train topics held out of the adapter's training (`KeyPointMatcherWeights+ArgKP.swift`).
    public static let miniLMArgKP: KeyPointMatcher = KeyPointMatcherWeights.miniLMArgKP

    /// The matcher fitted over `encoder`'s vectors: `miniLMArgKP` for a model named `...+argkp`, else `miniLM`.
    public static func fitted(for encoder: any SentenceEncoder) -> KeyPointMatcher {
        encoder.modelName.hasSuffix("+argkp") ? .miniLMArgKP : .miniLM
    }
}
