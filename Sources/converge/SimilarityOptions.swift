import ArgumentParser
import ConvergeAnalysis
import ConvergeCore
import ConvergeEmbeddings
import Foundation

/// `--similarity lexical|embedding|hybrid`: how statements are matched. Without it, hybrid when the
/// all-MiniLM-L6-v2 model is installed (`converge models install minilm`), lexical otherwise.
struct SimilarityOptions: ParsableArguments {
    @Option(help: """
        How statements are matched: lexical (TF-IDF words), embedding (MiniLM sentence embeddings) or hybrid \
        (both, weighed by the learned matcher). Default: hybrid when the model is installed, else lexical.
        """)
    var similarity: String?

    func validate() throws {
        if let similarity, !["lexical", "embedding", "hybrid"].contains(similarity) {
            throw ValidationError("--similarity must be lexical, embedding or hybrid, not \(similarity)")
        }
    }

    /// What the default does when the embedding model is not installed.
    enum MissingModel {
        /// Match lexically, silently (`ask`, `reanalyze`, `surveys resume`).
        case lexical
        /// Fetch and install the model first (`converge analyze`), unless `offline` (`--offline`) or
        /// `CONVERGE_OFFLINE=1`: then, or when the fetch fails, match lexically and say so in one line on
        /// standard error.
        case fetch(offline: Bool)
    }

    /// The model to analyse with. Throws `InputError` (exit 2) when an embedding model is asked for, or found,
    /// but is missing or damaged. `--similarity lexical` never fetches anything.
    /// - Parameter progress: called by the encoder after each batch (`SentenceEmbeddingModel.progress`).
    /// - Parameter stored: the matching a stored survey names (``SurveySpec/similarity``), used when
    ///   `--similarity` is not given: `reanalyze`, `surveys resume` and `follow-up` analyse a survey as it was
    ///   asked. A stored embedding matching whose model is missing is an error (exit 2), as `--similarity` is.
    func model(whenMissing: MissingModel = .lexical, stored: String? = nil,
               environment: [String: String] = ProcessInfo.processInfo.environment,
               progress: (@Sendable (_ encoded: Int, _ total: Int) -> Void)? = nil) throws -> any SimilarityModel {
        let similarity = self.similarity ?? stored
        let store = ModelStore(environment: environment)
        if similarity == nil, case let .fetch(offline) = whenMissing, store.installation() == .notInstalled {
            // Any value but empty, 0, false, no or off means offline (a typo must not go online).
            let variable = environment["CONVERGE_OFFLINE"]?.trimmingCharacters(in: .whitespaces).lowercased()
            let offlineByEnvironment = variable.map { !["", "0", "false", "no", "off"].contains($0) } ?? false
            let reason = offline ? "--offline"
                : offlineByEnvironment ? "CONVERGE_OFFLINE=\(environment["CONVERGE_OFFLINE"]!)" : nil
            func lexical(_ why: String) -> any SimilarityModel {
                FileHandle.standardError.write(Data(("converge: matching is lexical: the embedding model "
                    + "\(ModelStore.miniLM) \(why); `converge models install minilm` installs it "
                    + "(\(ModelFetch.downloadSize)) for hybrid matching\n").utf8))
                return LexicalSimilarity()
            }
            if let reason { return lexical("is not installed and \(reason) is set") }
            FileHandle.standardError.write(Data(("converge: hybrid matching needs the embedding model \(ModelStore.miniLM)"
                + ", not installed yet: installing it once (--offline or CONVERGE_OFFLINE=1 skips this)\n").utf8))
            do {
                let path = try ModelFetch.install(ModelStore.miniLM, from: nil, output: .standardError)
                FileHandle.standardError.write(Data("converge: installed \(ModelStore.miniLM) at \(path)\n".utf8))
            } catch {
                return lexical("could not be installed (\(error))")
            }
        }
        let chosen: (name: String, model: any SimilarityModel)
        do {
            chosen = try store.similarityModel(similarity, progress: progress)
        } catch let error as ModelStore.SimilarityError {
            throw InputError(error.description)
        }
        if chosen.name == "lexical" { return chosen.model }
        // A CBLAS named in CONVERGE_BLAS that cannot be used is said, not silently replaced by the slower kernel.
        let asked = environment[MatrixKernel.environmentVariable]?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        if !["", "auto", "none", "native"].contains(asked), case let .native(reason) = MatrixKernel.shared.backend {
            FileHandle.standardError.write(Data("converge: \(reason); using the native matrix kernel\n".utf8))
        }
        return chosen.model
    }
}
