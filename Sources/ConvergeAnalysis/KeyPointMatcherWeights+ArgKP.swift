// Placeholder until `converge-eval kpa-train --adapter argkp` writes it.
enum KeyPointMatcherArgKPWeights {
    static let miniLMArgKP = KeyPointMatcherWeights.miniLM
}
