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
    /// - Parameter progress: given to the encoder (`SentenceEmbeddingModel.progress`).
    public func similarityModel(_ asked: String?, progress: (@Sendable (_ encoded: Int, _ total: Int) -> Void)? = nil)
        throws -> (name: String, model: any SimilarityModel) {
        let choice = asked ?? (installation() == .notInstalled ? "lexical" : "hybrid")
        if choice == "lexical" { return (choice, LexicalSimilarity()) }
        var encoder: SentenceEmbeddingModel
        do {
            encoder = try load()
            encoder.progress = progress
        } catch let error as EmbeddingModelError {
            throw SimilarityError(description: asked == nil
                ? "the embedding model for the default hybrid matching: \(error.description)"
                : "--similarity \(choice): \(error.description)")
        }
        return (choice, choice == "embedding" ? EmbeddingSimilarity(encoder: encoder) : HybridSimilarity(encoder: encoder))
    }
}

/// The matchings of a long-running process (`converge serve`): the embedding model loaded once, when the
/// process starts, and shared by every analysis after (its weights are mapped, read-only; `encode` is safe from
/// many tasks at once).
public struct LoadedMatchings: Sendable {
    /// The loaded model; `nil` when it is not installed or cannot be loaded (`unavailable` says why).
    public let encoder: SentenceEmbeddingModel?
    /// Why embedding and hybrid matching are not offered; `nil` when they are.
    public let unavailable: String?
    /// The model is installed but could not be loaded (a file missing or damaged): worth a warning, not a notice.
    public let damaged: Bool

    public init(encoder: SentenceEmbeddingModel?, unavailable: String?, damaged: Bool = false) {
        self.encoder = encoder
        self.unavailable = encoder == nil ? (unavailable ?? "no embedding model was loaded") : nil
        self.damaged = encoder == nil && damaged
    }

    /// Loads all-MiniLM-L6-v2 from `store` if it is installed; never fetches it. A damaged install is
    /// `unavailable` with the loader's reason (the process still serves lexical matching).
    public static func load(from store: ModelStore = ModelStore()) -> LoadedMatchings {
        if store.installation() == .notInstalled {
            return LoadedMatchings(encoder: nil, unavailable: "the embedding model \(ModelStore.miniLM) is not installed "
                                   + "on this server (`converge models install minilm` installs it)")
        }
        do {
            return LoadedMatchings(encoder: try store.load(), unavailable: nil)
        } catch {
            return LoadedMatchings(encoder: nil, unavailable: "the embedding model \(ModelStore.miniLM) cannot be loaded: \(error)",
                                   damaged: true)
        }
    }

    /// The name `nil` stands for: hybrid when the model is loaded, else lexical (as `converge analyze`).
    public var defaultName: String { encoder == nil ? "lexical" : "hybrid" }

    /// The model for `name` (`lexical`, `embedding`, `hybrid`; `nil`: ``defaultName``).
    /// - Throws: `ModelStore.SimilarityError` naming the matching when it needs the model and there is none, or
    ///   for an unknown name.
    public func model(_ name: String?) throws -> any SimilarityModel {
        let choice = name ?? defaultName
        switch choice {
        case "lexical": return LexicalSimilarity()
        case "embedding", "hybrid":
            guard let encoder else {
                throw ModelStore.SimilarityError(description: "`\(choice)` matching is not available: "
                                                 + (unavailable ?? "no embedding model was loaded"))
            }
            return choice == "embedding" ? EmbeddingSimilarity(encoder: encoder) : HybridSimilarity(encoder: encoder)
        default:
            throw ModelStore.SimilarityError(description: "`\(choice)` is not a matching: lexical, embedding or hybrid")
        }
    }
}
