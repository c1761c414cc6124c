import ConvergeAnalysis
import ConvergeCore
import ConvergeStore
import Crypto
import Foundation

/// The embedding cache in the survey store: sentence vectors an analysis of a survey computes are kept with the
/// survey (`embeddings`, deleted with it) under the encoder's `cacheIdentity` and a SHA-256 of the text, and
/// any analysis of a survey reads them back instead of encoding: `reanalyze`, a judge's coverage check after the
/// analysis, a follow-up or another survey over the same answers. Vectors are deterministic, so there is no
/// switch to bypass it; a changed model, weights or arithmetic has another identity and misses.
/// A store that fails to read or write only costs the cache: the texts are encoded.
public struct StoreEmbeddingCache: Sendable {
    public let store: any SurveyStore
    public let surveyID: String

    public init(store: any SurveyStore, surveyID: String) {
        self.store = store
        self.surveyID = surveyID
    }

    /// An analyzer whose sentence encoder answers from the cache, and the cache to keep afterwards.
    public struct Session: Sendable {
        public let analyzer: Analyzer
        /// `nil` when the analyzer's similarity has no encoder (lexical): nothing to cache.
        public let encoder: CachingSentenceEncoder?
        let cache: StoreEmbeddingCache
        let kept: Set<String>

        /// Stores the vectors this session encoded (or read from other surveys) with the survey.
        public func keep() async {
            guard let encoder else { return }
            let new = encoder.vectors.filter { !kept.contains($0.key) }
            guard !new.isEmpty else { return }
            try? await cache.store.recordEmbeddings(surveyID: cache.surveyID, model: encoder.cacheIdentity, vectors: new)
        }
    }

    /// The key of `text`'s vector under `identity`: SHA-256 (hex) of the identity, a NUL and the text's UTF-8.
    public static func key(identity: String, text: String) -> String {
        SHA256.hash(data: Data((identity + "\u{0}" + text).utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// `body` run with `analyzer` reading its vectors through the cache (``prepare(_:for:)``), then what it
    /// encoded kept (``Session/keep()``): a judge's check of a stored survey's analysis, in one call.
    public func using<T: Sendable>(_ analyzer: Analyzer, for input: AnalysisInput,
                                   _ body: (Analyzer) async throws -> T) async rethrows -> T {
        let session = await prepare(analyzer, for: input)
        let value = try await body(session.analyzer)
        await session.keep()
        return value
    }

    /// `analyzer` reading vectors through a `CachingSentenceEncoder` filled from the store: every vector kept
    /// with this survey, and those kept with any survey for the texts analysing `input` encodes
    /// (`Analyzer.encodedTexts(for:)`). Use the returned analyzer for the analysis (and a judge's check of it),
    /// then call `keep()`.
    public func prepare(_ analyzer: Analyzer, for input: AnalysisInput) async -> Session {
        guard let base = analyzer.similarity.sentenceEncoder else {
            return Session(analyzer: analyzer, encoder: nil, cache: self, kept: [])
        }
        // A session's encoder in front of another session's: read through to the first model's identity.
        let identity = base.cacheIdentity
        let own = (try? await store.embeddings(surveyID: surveyID, model: identity)) ?? [:]
        let wanted = Analyzer.encodedTexts(for: input).map { Self.key(identity: identity, text: $0) }
            .filter { own[$0] == nil }
        let others = (try? await store.cachedEmbeddings(model: identity, hashes: wanted)) ?? [:]
        let encoder = CachingSentenceEncoder(base: base, known: own.merging(others) { mine, _ in mine }) { text in
            Self.key(identity: identity, text: text)
        }
        var cached = analyzer
        cached.similarity = analyzer.similarity.replacingSentenceEncoder(encoder)
        return Session(analyzer: cached, encoder: encoder, cache: self, kept: Set(own.keys))
    }
}
