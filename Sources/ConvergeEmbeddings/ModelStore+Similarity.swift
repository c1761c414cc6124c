import ConvergeAnalysis

extension ModelStore {
    /// The matching asked for cannot be made: the embedding model it needs is missing or damaged. `description`
    /// names the option (`--similarity hybrid: ...`) or the default, and the loader's reason.
    public struct SimilarityError: Error, CustomStringConvertible {
        public let description: String
    }

    /// The matching `converge analyze` uses (and `converge-eval` measures): `asked` (`lexical`, `embedding` or
    /// `hybrid`), or, when nil, hybrid when all-MiniLM-L6-v2 is installed and lexical when it is not. A damaged
    /// install is an error, never a silent fall-back to lexical matching.
    ///
    /// - Returns: the matching's name and its model.
    /// - Throws: `SimilarityError` when the embedding model is needed but cannot be loaded (other errors of the
    ///   loader as they are).
    public func similarityModel(_ asked: String?) throws -> (name: String, model: any SimilarityModel) {
        let choice = asked ?? (installation() == .notInstalled ? "lexical" : "hybrid")
        if choice == "lexical" { return (choice, LexicalSimilarity()) }
        let encoder: SentenceEmbeddingModel
        do {
            encoder = try load()
        } catch let error as EmbeddingModelError {
            throw SimilarityError(description: asked == nil
                ? "the embedding model for the default hybrid matching: \(error.description)"
                : "--similarity \(choice): \(error.description)")
        }
        return (choice, choice == "embedding" ? EmbeddingSimilarity(encoder: encoder) : HybridSimilarity(encoder: encoder))
    }
}
