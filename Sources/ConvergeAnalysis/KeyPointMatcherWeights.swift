// Placeholder until `converge-eval kpa-train` writes the trained weights.
enum KeyPointMatcherWeights {
    static let miniLM = KeyPointMatcher(dimensionWeights: Array(repeating: 10, count: 384), lexicalWeight: 2,
                                        coverageWeight: 2, bias: -6, provenance: "untrained placeholder")
}
