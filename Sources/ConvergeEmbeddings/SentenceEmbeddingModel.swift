import ConvergeAnalysis
import Foundation

/// A sentence-transformers model of the BERT family (first all-MiniLM-L6-v2) loaded from a folder holding
/// `config.json`, `tokenizer.json` and `model.safetensors` (and optionally `sentence_bert_config.json` for
/// the maximum sequence length, 256 for all-MiniLM-L6-v2): tokenization, the encoder, mean pooling and L2
/// normalisation, in batches.
public struct SentenceEmbeddingModel: SentenceEncoder {
    public let modelName: String
    /// The base model's name, without the adapter's (`all-MiniLM-L6-v2`).
    public let baseName: String
    public let directory: String
    public let tokenizer: WordPieceTokenizer
    public let encoder: BertEncoder
    /// Longest token sequence fed to the encoder, special tokens included; longer texts are truncated.
    public let maxSequenceLength: Int
    /// Sentences per forward pass.
    public var batchSize: Int
    /// Called after each batch of an `encode` call with the texts encoded so far and the call's total (from the
    /// encoding thread; a long analysis shows progress with it). It does not change what is encoded.
    public var progress: (@Sendable (_ encoded: Int, _ total: Int) -> Void)?

    public var dimension: Int { encoder.config.hiddenSize }

    /// The model's name, its weights' fingerprint (`SafeTensorsFile.fingerprint`), the maximum sequence length,
    /// the encoder's arithmetic version (`bert-f32.1`, or `bert-bf16.2` with BF16 weight products;
    /// `+argkp-lora.1` after it with the ArgKP adapter) and whether
    /// products run on a CBLAS or the native kernel (their float rounding differs):
    /// `all-MiniLM-L6-v2 f3a1... len256 bert-f32.1 cblas`.
    public var cacheIdentity: String {
        "\(modelName) \(encoder.weightsFingerprint) len\(maxSequenceLength) \(encoder.arithmetic) "
            + (encoder.kernel.backend.isNative ? "native" : "cblas")
    }

    /// Loads the model in `directory`, to run its matrix products on `kernel` (default:
    /// `MatrixKernel.forEncoder(precision:)`, the CBLAS or native kernel `CONVERGE_BLAS` chooses, native with
    /// bf16; `encoder.kernel.backend` says which) with `threads` threads (default:
    /// one per active core; see `BertEncoder.init`), its weight products in `precision` (default: what
    /// `CONVERGE_ENCODER_PRECISION` chooses; `encoder.precision` says which). Throws `EmbeddingModelError`
    /// naming the missing or damaged file. With `adapter` (default: what `CONVERGE_ENCODER_ADAPTER` chooses,
    /// `ModelAdapter.shared`), its low-rank update is merged into the weights and the model is named
    /// `NAME+ADAPTER` (`all-MiniLM-L6-v2+argkp`).
    public init(directory: String, name: String = "all-MiniLM-L6-v2", batchSize: Int = 64,
                kernel: MatrixKernel? = nil, threads: Int = ProcessInfo.processInfo.activeProcessorCount,
                precision: EncoderPrecision = .shared, adapter: ModelAdapter? = ModelAdapter.shared) throws {
        try self.init(directory: directory, name: name, batchSize: batchSize, kernel: kernel, threads: threads,
                      precision: precision, adapter: adapter, vectorSteps: nil)
    }

    /// The public initializer with the encoder's Float32 steps chosen (`BertEncoder.vectorSteps`; nil: with
    /// bf16 only), so that `converge-eval bench encode` can time bf16 with and without them in one run.
    package init(directory: String, name: String = "all-MiniLM-L6-v2", batchSize: Int = 64,
                 kernel: MatrixKernel? = nil, threads: Int = ProcessInfo.processInfo.activeProcessorCount,
                 precision: EncoderPrecision = .shared, adapter: ModelAdapter? = ModelAdapter.shared,
                 vectorSteps: Bool?) throws {
        self.directory = directory
        self.baseName = name
        self.modelName = adapter.map { name + "+" + $0.name } ?? name
        self.batchSize = max(1, batchSize)
        let url = URL(fileURLWithPath: directory)
        let config = try BertConfig(path: url.appendingPathComponent("config.json").path)
        tokenizer = try WordPieceTokenizer(path: url.appendingPathComponent("tokenizer.json").path)
        let weightsPath = url.appendingPathComponent("model.safetensors").path
        encoder = try BertEncoder(config: config, weights: try SafeTensorsFile(path: weightsPath),
                                  kernel: kernel,
                                  threads: threads, precision: precision, adapter: adapter, vectorSteps: vectorSteps)
        guard tokenizer.vocabulary.count <= config.vocabSize,
              tokenizer.vocabulary.values.allSatisfy({ $0 >= 0 && Int($0) < config.vocabSize })
        else {
            throw EmbeddingModelError.damaged(path: url.appendingPathComponent("tokenizer.json").path,
                                              reason: "vocabulary ids exceed the model's vocab_size \(config.vocabSize)")
        }
        var maxLength = 256
        let stConfig = url.appendingPathComponent("sentence_bert_config.json").path
        if let data = FileManager.default.contents(atPath: stConfig) {
            guard let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw EmbeddingModelError.damaged(path: stConfig, reason: "not a JSON object")
            }
            if let value = (root["max_seq_length"] as? NSNumber)?.intValue { maxLength = value }
        }
        maxSequenceLength = max(2, min(maxLength, config.maxPositions))
    }

    /// Token ids of `text` as the encoder sees it (`[CLS]`, pieces, `[SEP]`, truncated).
    public func tokenIDs(_ text: String) -> [Int32] { tokenizer.encode(text, maxLength: maxSequenceLength) }

    /// Unit vectors for `texts`, in input order. Texts of the same token ids (a repeated sentence or paragraph,
    /// the same sentence in several answers, a rubric item that is also a statement, texts that differ only in
    /// case) are encoded once and share one vector. The distinct sequences are sorted by token count (then token
    /// ids) and encoded `batchSize` at a time (`BertEncoder.embed` packs a batch's sequences without padding and
    /// splits it over the cores by token count, so sequences of similar length share a thread's sub-batch).
    /// `progress` counts distinct sequences.
    public func encode(_ texts: [String]) -> [[Float]] { encode(texts, context: nil) }

    /// `encode(_:)` with each text read in `context` (`SentenceEncoder.encode(_:context:)`): the pair `[CLS]
    /// context [SEP] text [SEP]`, mean-pooled over the text's pieces and its `[SEP]`. On ArgKP dev (the topic as
    /// context) the zero-shot cosine ranks better than without it; BENCHMARKS.md has the figures.
    public func encode(_ texts: [String], context: String?) -> [[Float]] {
        var starts: [[Int32]: Int] = [:]
        let ids: [[Int32]] = texts.map { text in
            guard let context else { return tokenIDs(text) }
            let (sequence, textStart) = tokenizer.encode(text, context: context, maxLength: maxSequenceLength)
            starts[sequence] = textStart
            return sequence
        }
        let (distinct, slots) = Self.distinct(ids)
        // Batches are made of distinct sequences by token count, then by token ids: a text's batch mates (and so
        // its float rounding) depend neither on the order of `texts` nor on how often a text is repeated.
        let order = distinct.indices.sorted { l, r in
            if distinct[l].count != distinct[r].count { return distinct[l].count < distinct[r].count }
            return distinct[l].lexicographicallyPrecedes(distinct[r])
        }
        var vectors = [[Float]](repeating: [], count: distinct.count)
        var start = 0
        while start < order.count {
            let chunk = Array(order[start..<min(start + batchSize, order.count)])
            let embedded = encoder.embed(chunk.map { distinct[$0] }, poolFrom: chunk.map { starts[distinct[$0]] ?? 0 })
            for (n, i) in chunk.enumerated() { vectors[i] = embedded[n] }
            start += batchSize
            progress?(min(start, order.count), order.count)
        }
        return slots.map { vectors[$0] }
    }

    /// The distinct sequences of `ids` in order of first appearance, and for each of `ids` the index of its own.
    static func distinct(_ ids: [[Int32]]) -> (sequences: [[Int32]], slots: [Int]) {
        var index: [[Int32]: Int] = [:]
        var sequences: [[Int32]] = []
        let slots = ids.map { sequence in
            if let known = index[sequence] { return known }
            index[sequence] = sequences.count
            sequences.append(sequence)
            return sequences.count - 1
        }
        return (sequences, slots)
    }
}
