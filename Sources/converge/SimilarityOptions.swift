import ArgumentParser
import ConvergeAnalysis
import ConvergeCore
import ConvergeEmbeddings

/// `--similarity lexical|embedding|hybrid|hybrid-v1`: how statements are matched. Without it, hybrid when the
/// all-MiniLM-L6-v2 model is installed (`converge models install minilm`), lexical otherwise. `hybrid-v1` is
/// the previous hybrid (`KeyPointMatcher.miniLM` over the base model), kept for comparisons.
struct SimilarityOptions: ParsableArguments {
    @Option(help: """
        How statements are matched: lexical (TF-IDF words), embedding (MiniLM sentence embeddings) or hybrid \
        (both, weighed by the learned matcher). Default: hybrid when the model is installed, else lexical.
        """)
    var similarity: String?

    func validate() throws {
        if let similarity, !["lexical", "embedding", "hybrid", "hybrid-v1"].contains(similarity) {
            throw ValidationError("--similarity must be lexical, embedding or hybrid, not \(similarity)")
        }
    }

    /// The model to analyse with. Throws `InputError` (exit 2) when an embedding model is asked for, or found,
    /// but is missing or damaged.
    func model() throws -> any SimilarityModel {
        let store = ModelStore()
        // A damaged install is an error, not a silent fall-back to lexical matching.
        let choice = similarity ?? (store.installation() == .notInstalled ? "lexical" : "hybrid")
        if choice == "lexical" { return LexicalSimilarity() }
        let encoder: SentenceEmbeddingModel
        do {
            // Hybrid matching uses the ArgKP-tuned encoder its matcher was trained with; embedding, the base one.
            encoder = try store.load(adapter: choice == "hybrid" ? .argKP : nil)
        } catch let error as EmbeddingModelError {
            throw InputError(similarity == nil ? "the embedding model for the default hybrid matching: \(error.description)"
                             : "--similarity \(choice): \(error.description)")
        }
        if choice == "embedding" { return EmbeddingSimilarity(encoder: encoder) }
        // hybrid-v1: the base encoder, so HybridSimilarity picks KeyPointMatcher.miniLM and its thresholds.
        return HybridSimilarity(encoder: encoder)
    }
}
