/// Turns sentences into unit-length vectors whose dot product is their semantic similarity (cosine).
///
/// ConvergeAnalysis only reads vectors through this protocol; `ConvergeEmbeddings` provides the native
/// BERT-family implementation (all-MiniLM-L6-v2), so the analysis stays free of BLAS and file I/O.
public protocol SentenceEncoder: Sendable {
    /// Name of the model, for reports (`all-MiniLM-L6-v2`).
    var modelName: String { get }
    /// Length of every vector returned.
    var dimension: Int { get }
    /// What makes this encoder's vectors what they are (model, weights, arithmetic): two encoders with the same
    /// identity return the same vector for the same text, so vectors kept under it (the survey store's
    /// embedding cache) may stand in for encoding. Default: `modelName`.
    var cacheIdentity: String { get }
    /// One L2-normalised vector of `dimension` floats per text, in input order. An empty text gets the
    /// encoding of an empty sentence (the model's special tokens only).
    func encode(_ texts: [String]) -> [[Float]]
    /// One vector per text as `encode(_:)` gives, each text read in `context` (the question the texts answer):
    /// the native encoder reads the pair (context, text) and pools the text's tokens only, so the context shapes
    /// what each word means without making every text alike. `nil` is `encode(_:)`. Default: the context is
    /// ignored (an encoder that cannot read one).
    func encode(_ texts: [String], context: String?) -> [[Float]]
}

extension SentenceEncoder {
    public var cacheIdentity: String { modelName }
    public func encode(_ texts: [String], context: String?) -> [[Float]] { encode(texts) }
}

/// Dot product of two vectors of equal length (the cosine, for unit vectors).
@inlinable
public func dot(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count, "vectors of different lengths")
    var s: Float = 0
    for i in a.indices { s += a[i] * b[i] }
    return s
}
