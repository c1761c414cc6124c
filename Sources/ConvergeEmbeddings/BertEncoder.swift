import CConvergeKernels
import Foundation

/// The shape of a BERT encoder, from a Hugging Face `config.json`.
public struct BertConfig: Sendable, Equatable {
    public var vocabSize: Int
    public var hiddenSize: Int
    public var layers: Int
    public var heads: Int
    public var intermediateSize: Int
    public var maxPositions: Int
    public var typeVocabSize: Int
    public var layerNormEps: Float

    /// Reads `config.json`; throws `EmbeddingModelError` naming the file and field when it is missing, not a
    /// BERT config (`model_type` bert, `hidden_act` gelu, absolute positions), or inconsistent.
    public init(path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { throw EmbeddingModelError.missingFile(path: path) }
        func damaged(_ reason: String) -> EmbeddingModelError { .damaged(path: path, reason: reason) }
        guard let data = FileManager.default.contents(atPath: path),
              let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { throw damaged("not a JSON object") }
        func int(_ key: String) throws -> Int {
            guard let value = (root[key] as? NSNumber)?.intValue, value > 0 else { throw damaged("\(key) is missing or not a positive integer") }
            return value
        }
        if let type = root["model_type"] as? String, type != "bert" { throw damaged("model_type is \(type), expected bert") }
        if let act = root["hidden_act"] as? String, act != "gelu" { throw damaged("hidden_act is \(act), expected gelu") }
        if let pos = root["position_embedding_type"] as? String, pos != "absolute" {
            throw damaged("position_embedding_type is \(pos), expected absolute")
        }
        vocabSize = try int("vocab_size")
        hiddenSize = try int("hidden_size")
        layers = try int("num_hidden_layers")
        heads = try int("num_attention_heads")
        intermediateSize = try int("intermediate_size")
        maxPositions = try int("max_position_embeddings")
        typeVocabSize = try int("type_vocab_size")
        layerNormEps = (root["layer_norm_eps"] as? NSNumber)?.floatValue ?? 1e-12
        guard hiddenSize % heads == 0 else { throw damaged("hidden_size \(hiddenSize) is not a multiple of num_attention_heads \(heads)") }
    }
}

/// A BERT encoder's weights and its forward pass, in Float32; matrix products go through `kernel` (a CBLAS
/// found at run time, or the native Swift kernel: see `MatrixKernel`), except, with `precision` bf16, the
/// weight products (query, key, value, attention output, the two feed-forward layers), which multiply BF16
/// copies of the weights (converted once at load) by the activations rounded to BF16, summing in Float32 on
/// AVX512-BF16, or with `precision` int8, int8 copies by the activations rounded to uint8 per 32 inputs, summing in
/// Int32 on AVX512-VNNI (`PackedMatrix`; see `EncoderPrecision`).
///
/// Forward pass as in Devlin et al. (2019) and Hugging Face `BertModel`: word + position + token-type
/// embeddings and LayerNorm; then per layer multi-head self-attention (scaled dot product within each sequence),
/// output projection, residual and LayerNorm, a GELU (erf form) feed-forward block, residual and LayerNorm.
/// `embed` then averages the last hidden states over each sequence's tokens and L2-normalises, as
/// sentence-transformers' `Pooling(mean)` + `Normalize` do.
///
/// The weights are views of the safetensors file (`FloatTensor`, mapped, not copied). A batch runs as
/// `threads` sub-batches at once (data parallel, one thread each, every product single-threaded), so that the
/// attention, GELU and LayerNorm loops use every core too and no thread waits on another within a layer.
public final class BertEncoder: @unchecked Sendable {
    // @unchecked: every stored property is immutable after init; `embed` allocates its own buffers.
    public let config: BertConfig
    /// Where the matrix products run; `kernel.backend` says which implementation was loaded.
    public let kernel: MatrixKernel
    /// Sub-batches of a batch encoded at once, one thread each (at least 1).
    public let threads: Int
    /// The weights file's `SafeTensorsFile.fingerprint`.
    public let weightsFingerprint: String
    /// The arithmetic of the weight products (float32; bf16 where the CPU has AVX512-BF16; int8 with AVX512-VNNI).
    public let precision: EncoderPrecision
    /// Names the forward pass's arithmetic (Float32, this order of operations); changed whenever a change to
    /// it changes the vectors, so that cached vectors of the old arithmetic are not used (`cacheIdentity`).
    public static let arithmeticVersion = "bert-f32.1"
    /// The same for the forward pass with BF16 weight products.
    public static let bf16ArithmeticVersion = "bert-bf16.2"
    /// The same for the forward pass with int8 weight products.
    public static let int8ArithmeticVersion = "bert-int8.1"
    /// This encoder's: `arithmeticVersion`, `bf16ArithmeticVersion` or `int8ArithmeticVersion`, followed by `+` and the adapter's
    /// `ModelAdapter.version` when one is merged (`bert-f32.1+argkp-lora.1`), so that cached vectors of the
    /// base and the adapted weights never mix. An encoder made with the other choice of `vectorSteps` than its
    /// precision's default (benchmarks and tests only) says so (`+vector-steps`, `+swift-steps`).
    public var arithmetic: String {
        var base = switch precision.kind {
        case .float32: Self.arithmeticVersion
        case .bf16: Self.bf16ArithmeticVersion
        case .int8: Self.int8ArithmeticVersion
        }
        if vectorSteps != precision.isReduced { base += vectorSteps ? "+vector-steps" : "+swift-steps" }
        return adapter.map { base + "+" + $0.version } ?? base
    }
    /// The low-rank update merged into the weights at load, if any.
    public let adapter: ModelAdapter?
    /// Whether the Float32 steps between the weight products (attention with its softmax, GELU, LayerNorm with
    /// the residual added first) run on CConvergeKernels' kernels (`converge_attention`, `converge_gelu`,
    /// `converge_layer_norm`: AVX-512 where the CPU has it, else their portable scalar versions) instead of this
    /// file's Swift loops and the attention's small `kernel.sgemm` calls. True with bf16 and int8 only: the float32 path's
    /// vectors keep their bits.
    let vectorSteps: Bool
    /// With `vectorSteps`, a sub-batch runs as consecutive groups of whole sequences of about this many tokens
    /// (a longer sequence alone), each group a whole forward pass: its activations stay in the caches between the
    /// steps. Every step treats each row (attention: each sequence) on its own, so the grouping does not change a bit.
    let groupTokens: Int
    /// Tokens per group with `vectorSteps` (`groupTokens`): about 17 KB of activations a token (query, key, value,
    /// context, attention output, the 1,536-wide feed-forward layer and its BF16 copy), 4.3 MB for 256.
    package static let defaultGroupTokens = 256

    struct Layer {
        // Query, key and value stay three `[H, H]` tensors of the file; their products write the three thirds
        // of one `[rows, 3H]` buffer (row stride 3H), which is what concatenated weights would give.
        var queryWeight: FloatTensor, queryBias: FloatTensor
        var keyWeight: FloatTensor, keyBias: FloatTensor
        var valueWeight: FloatTensor, valueBias: FloatTensor
        var attentionOutWeight: FloatTensor, attentionOutBias: FloatTensor
        var attentionNormWeight: FloatTensor, attentionNormBias: FloatTensor
        var intermediateWeight: FloatTensor, intermediateBias: FloatTensor
        var outputWeight: FloatTensor, outputBias: FloatTensor
        var outputNormWeight: FloatTensor, outputNormBias: FloatTensor
    }

    let wordEmbeddings: FloatTensor, positionEmbeddings: FloatTensor, typeEmbeddings: FloatTensor
    let embeddingNormWeight: FloatTensor, embeddingNormBias: FloatTensor
    let layers: [Layer]

    /// A layer's weights in BF16 or int8, packed for that precision's kernel.
    struct PackedLayer {
        var query: PackedMatrix, key: PackedMatrix, value: PackedMatrix, attentionOut: PackedMatrix
        var intermediate: PackedMatrix, output: PackedMatrix
    }

    /// With `precision` bf16 or int8, one per layer; else empty.
    let packedLayers: [PackedLayer]

    /// Loads the weights named as in Hugging Face `BertModel` (with or without a `bert.` prefix) from
    /// `weights`, checking every shape against `config`, to run on `kernel` (default:
    /// `MatrixKernel.forEncoder(precision:vectorSteps:)`: the one `CONVERGE_BLAS` chooses, or with bf16 or int8
    /// and the vector steps, which compute no Float32 product, the native one) with `threads` threads (default: one
    /// per active core; values below 1 mean 1).
    /// With more than one thread, a CBLAS that can say so (OpenBLAS) is asked to run each product on one
    /// thread (`MatrixKernel.useOneLibraryThread()`): the encoder's own threads use the cores; with one, it
    /// gets its own thread count back (`useLibraryThreads()`). That setting is process-wide: the encoder made
    /// last decides it. `precision` (default: `EncoderPrecision.shared`, chosen by
    /// `CONVERGE_ENCODER_PRECISION`) bf16 converts the six weight matrices of each layer to packed BF16 copies
    /// (on every core; 21 MB for all-MiniLM-L6-v2), int8 to int8 copies (11 MB); on a CPU without the precision's
    /// instructions it means the next one down it has (`EncoderPrecision.available()`). With
    /// `adapter`, its deltas are merged into the dense weights it names first (`ModelAdapter.merged`: owned
    /// copies of those weights; the packed copies are made from the merged weights). Throws
    /// `EmbeddingModelError.damaged` naming the tensor, or naming an adapter layer that is not a dense layer of
    /// the model.
    public convenience init(config: BertConfig, weights: SafeTensorsFile, kernel: MatrixKernel? = nil,
                            threads: Int = ProcessInfo.processInfo.activeProcessorCount,
                            precision: EncoderPrecision = .shared, adapter: ModelAdapter? = nil) throws {
        try self.init(config: config, weights: weights, kernel: kernel, threads: threads, precision: precision,
                      adapter: adapter, vectorSteps: nil)
    }

    /// The public initializer, with `vectorSteps` chosen (default: with bf16 and int8 only; tests also run them on Float32
    /// products) and the tokens per group of sequences they use (`groupTokens`).
    package init(config: BertConfig, weights: SafeTensorsFile, kernel: MatrixKernel? = nil,
                 threads: Int = ProcessInfo.processInfo.activeProcessorCount, precision: EncoderPrecision = .shared,
                 adapter: ModelAdapter? = nil, vectorSteps: Bool?, groupTokens: Int = BertEncoder.defaultGroupTokens) throws {
        self.config = config
        self.adapter = adapter
        self.threads = max(1, threads)
        self.precision = precision.available()
        self.vectorSteps = vectorSteps ?? self.precision.isReduced
        self.kernel = kernel ?? .forEncoder(precision: self.precision, vectorSteps: self.vectorSteps)
        self.groupTokens = max(1, groupTokens)
        self.weightsFingerprint = weights.fingerprint
        let h = config.hiddenSize, f = config.intermediateSize
        let prefix = weights.tensors["embeddings.word_embeddings.weight"] == nil
            && weights.tensors["bert.embeddings.word_embeddings.weight"] != nil ? "bert." : ""
        var merged = Set<String>()
        func t(_ name: String, _ shape: [Int]) throws -> FloatTensor {
            let tensor = try weights.tensor(prefix + name, shape: shape)
            guard let adapter, shape.count == 2, name.hasSuffix(".weight") else { return tensor }
            let layer = String(name.dropLast(".weight".count))
            guard let sum = try adapter.merged(tensor, layer: layer, rows: shape[0], columns: shape[1]) else { return tensor }
            merged.insert(layer)
            return sum
        }
        wordEmbeddings = try t("embeddings.word_embeddings.weight", [config.vocabSize, h])
        positionEmbeddings = try t("embeddings.position_embeddings.weight", [config.maxPositions, h])
        typeEmbeddings = try t("embeddings.token_type_embeddings.weight", [config.typeVocabSize, h])
        embeddingNormWeight = try t("embeddings.LayerNorm.weight", [h])
        embeddingNormBias = try t("embeddings.LayerNorm.bias", [h])
        layers = try (0..<config.layers).map { l in
            let p = "encoder.layer.\(l)."
            return Layer(
                queryWeight: try t(p + "attention.self.query.weight", [h, h]),
                queryBias: try t(p + "attention.self.query.bias", [h]),
                keyWeight: try t(p + "attention.self.key.weight", [h, h]),
                keyBias: try t(p + "attention.self.key.bias", [h]),
                valueWeight: try t(p + "attention.self.value.weight", [h, h]),
                valueBias: try t(p + "attention.self.value.bias", [h]),
                attentionOutWeight: try t(p + "attention.output.dense.weight", [h, h]),
                attentionOutBias: try t(p + "attention.output.dense.bias", [h]),
                attentionNormWeight: try t(p + "attention.output.LayerNorm.weight", [h]),
                attentionNormBias: try t(p + "attention.output.LayerNorm.bias", [h]),
                intermediateWeight: try t(p + "intermediate.dense.weight", [f, h]),
                intermediateBias: try t(p + "intermediate.dense.bias", [f]),
                outputWeight: try t(p + "output.dense.weight", [h, f]),
                outputBias: try t(p + "output.dense.bias", [h]),
                outputNormWeight: try t(p + "output.LayerNorm.weight", [h]),
                outputNormBias: try t(p + "output.LayerNorm.bias", [h]))
        }
        if let adapter, let unused = adapter.layers.subtracting(merged).sorted().first {
            throw EmbeddingModelError.damaged(path: adapter.file.path, reason: "adapter layer \(unused) is not a dense layer of the model")
        }
        packedLayers = self.precision.isReduced
            ? Self.pack(layers, hidden: h, intermediate: f, format: self.precision.kind) : []
        if self.threads > 1 { self.kernel.useOneLibraryThread() } else { self.kernel.useLibraryThreads() }
    }

    /// The six weight matrices of every layer in `format` (bf16 or int8), converted on every core (one matrix per
    /// task).
    static func pack(_ layers: [Layer], hidden h: Int, intermediate f: Int, format: EncoderPrecision.Kind) -> [PackedLayer] {
        let perLayer = 6
        let slots = Slots<PackedMatrix>(count: layers.count * perLayer)
        DispatchQueue.concurrentPerform(iterations: layers.count * perLayer) { task in
            let layer = layers[task / perLayer]
            let (weight, n, k): (FloatTensor, Int, Int) = switch task % perLayer {
            case 0: (layer.queryWeight, h, h)
            case 1: (layer.keyWeight, h, h)
            case 2: (layer.valueWeight, h, h)
            case 3: (layer.attentionOutWeight, h, h)
            case 4: (layer.intermediateWeight, f, h)
            default: (layer.outputWeight, h, f)
            }
            slots.put(PackedMatrix(weight.base, n: n, k: k, format: format), at: task)
        }
        let matrices = slots.take()
        return layers.indices.map { l in
            let m = matrices[(l * perLayer)..<((l + 1) * perLayer)].map { $0 }
            return PackedLayer(query: m[0], key: m[1], value: m[2], attentionOut: m[3], intermediate: m[4], output: m[5])
        }
    }

    /// Mean-pooled, L2-normalised sentence vectors for a batch of token-id sequences (each already with its
    /// special tokens, at most `config.maxPositions` long, ids below `config.vocabSize`). The batch is cut
    /// into up to `threads` contiguous sub-batches of near-equal token counts, encoded at once. Sequences are
    /// packed end to end, never padded: every per-token step (the products, GELU, LayerNorm) runs on exactly
    /// the real tokens, and attention runs within each sequence. Returns `ids.count` vectors of
    /// `config.hiddenSize` floats, in input order. `poolFrom`: per sequence, the first token pooled (a sentence
    /// pair's second sentence, `WordPieceTokenizer.encode(_:context:maxLength:)`); default 0, every token.
    public func embed(_ ids: [[Int32]], poolFrom: [Int]? = nil) -> [[Float]] {
        guard !ids.isEmpty else { return [] }
        let starts = poolFrom ?? [Int](repeating: 0, count: ids.count)
        precondition(starts.count == ids.count, "one pooling start per sequence")
        let parts = min(threads, ids.count)
        if parts == 1 { return embedPart(ids, poolFrom: starts, threaded: true) }
        let bounds = Self.split(ids.map(\.count), parts: parts)
        let slots = Slots<[[Float]]>(count: parts)
        DispatchQueue.concurrentPerform(iterations: parts) { p in
            let range = bounds[p]..<bounds[p + 1]
            slots.put(embedPart(Array(ids[range]), poolFrom: Array(starts[range]), threaded: false), at: p)
        }
        return slots.take().flatMap { $0 }
    }

    /// `parts + 1` increasing bounds cutting `counts` into `parts` non-empty contiguous runs whose sums are as
    /// near `sum / parts` as a cut between elements allows (first bound 0, last `counts.count`).
    static func split(_ counts: [Int], parts: Int) -> [Int] {
        let total = counts.reduce(0, +)
        var bounds = [0]
        var running = 0, i = 0
        for p in 1..<parts {
            let target = total * p / parts
            // At least one element per run, and enough left for the runs after this one.
            while i < counts.count - (parts - p), bounds.last! == i || running + counts[i] / 2 < target {
                running += counts[i]
                i += 1
            }
            bounds.append(i)
        }
        bounds.append(counts.count)
        return bounds
    }

    /// Floating-point operations of the matrix products of one forward pass over sequences of `lengths`
    /// tokens, counting a multiply-add as 2: per token and layer `2 (4 H^2 + 2 H F)` (query, key, value and
    /// output projections, the two feed-forward products), per sequence of length `n` and layer `4 n^2 H`
    /// (scores and their weighted sum over the values, all heads). Softmax, GELU and LayerNorm are not
    /// counted (a few percent). For GFLOP/s figures beside an sgemm's.
    public func productFLOPs(lengths: [Int]) -> Double {
        let h = Double(config.hiddenSize), f = Double(config.intermediateSize), layers = Double(config.layers)
        let tokens = Double(lengths.reduce(0, +))
        let attention = lengths.reduce(0.0) { $0 + 4 * Double($1) * Double($1) * h }
        return layers * (tokens * 2 * (4 * h * h + 2 * h * f) + attention)
    }

    /// One sub-batch: forward pass, then mean pooling over each sequence's tokens and L2 normalisation.
    func embedPart(_ ids: [[Int32]], poolFrom: [Int], threaded: Bool) -> [[Float]] {
        let h = config.hiddenSize
        var hidden: [Float]
        if vectorSteps {
            hidden = []
            hidden.reserveCapacity(ids.reduce(0) { $0 + $1.count } * h)
            var start = 0
            while start < ids.count {
                var end = start + 1, tokens = ids[start].count
                while end < ids.count, tokens + ids[end].count <= groupTokens {
                    tokens += ids[end].count
                    end += 1
                }
                hidden += forward(Array(ids[start..<end]), threaded: threaded)
                start = end
            }
        } else {
            hidden = forward(ids, threaded: threaded)
        }
        var start = 0
        return hidden.withUnsafeBufferPointer { hp in
            zip(ids, poolFrom).map { sequence, from in
                var v = [Float](repeating: 0, count: h)
                let first = min(max(0, from), sequence.count)
                v.withUnsafeMutableBufferPointer { vp in
                    for t in first..<sequence.count {
                        let row = hp.baseAddress! + (start + t) * h
                        for k in 0..<h { vp[k] += row[k] }
                    }
                    var norm: Float = 0
                    let pooled = Float(max(sequence.count - first, 1))
                    for k in 0..<h { vp[k] /= pooled; norm += vp[k] * vp[k] }
                    norm = max(norm.squareRoot(), 1e-12)
                    for k in 0..<h { vp[k] /= norm }
                }
                start += sequence.count
                return v
            }
        }
    }

    /// Last hidden states, `[tokens * hidden]` row-major: the sequences' tokens end to end, in order, no
    /// padding. `threaded` lets the native kernel spread a product over the cores.
    func forward(_ ids: [[Int32]], threaded: Bool = true) -> [Float] {
        let h = config.hiddenSize, f = config.intermediateSize
        var offsets = [0]
        for sequence in ids { offsets.append(offsets.last! + sequence.count) }
        let rows = offsets.last!
        let length = ids.map(\.count).max() ?? 0
        guard rows > 0 else { return [] }
        let heads = config.heads, headSize = h / heads
        let eps = config.layerNormEps

        var result = [Float](repeating: 0, count: rows * h)
        let workspace = UnsafeMutablePointer<Float>.allocate(capacity: rows * (3 * h + 2 * h + f) + length * length)
        defer { workspace.deallocate() }
        // The packed kernel's activations (rows x the widest input, in BF16 pairs or uint8 quads), with bf16 or int8.
        let packedWords = packedLayers.first.map { $0.output.workspaceWords(rows: rows) } ?? 0
        let packedWorkspace = UnsafeMutablePointer<UInt32>.allocate(capacity: max(packedWords, 1))
        defer { packedWorkspace.deallocate() }
        // `converge_attention`'s scratch (the keys of a head transposed, a row of scores), with `vectorSteps`.
        let attentionScratch = UnsafeMutablePointer<Float>.allocate(
            capacity: vectorSteps ? converge_attention_scratch_floats(length, headSize) : 1)
        defer { attentionScratch.deallocate() }
        let qkv = workspace, context = qkv + rows * 3 * h, attended = context + rows * h
        let intermediate = attended + rows * h, scores = intermediate + rows * f
        let scale = 1 / Float(headSize).squareRoot()
        /// `x += residual` (when given), then LayerNorm of each row: the Swift loops, or `converge_layer_norm`.
        func norm(_ x: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?, rows: Int, weight: FloatTensor,
                  bias: FloatTensor) {
            if vectorSteps {
                precondition(weight.count == h && bias.count == h)
                converge_layer_norm(x, residual, rows, h, weight.base, bias.base, eps)
                return
            }
            if let residual { for i in 0..<rows * h { x[i] += residual[i] } }
            Self.layerNorm(x, rows: rows, width: h, weight: weight, bias: bias, eps: eps)
        }

        result.withUnsafeMutableBufferPointer { xb in
            let x = xb.baseAddress!
            let word = wordEmbeddings.base, position = positionEmbeddings.base, type = typeEmbeddings.base
            for (b, sequence) in ids.enumerated() {
                for (t, id) in sequence.enumerated() {
                    let token = Int(id), row = x + (offsets[b] + t) * h
                    let w = word + token * h, p = position + t * h
                    for k in 0..<h { row[k] = w[k] + p[k] + type[k] }
                }
            }
            norm(x, residual: nil, rows: rows, weight: embeddingNormWeight, bias: embeddingNormBias)

            for (l, layer) in layers.enumerated() {
                let packed = packedLayers.isEmpty ? nil : packedLayers[l]
                func linear(_ input: UnsafePointer<Float>, inWidth: Int, weight: FloatTensor, packed: PackedMatrix?,
                            bias: FloatTensor, outWidth: Int, into out: UnsafeMutablePointer<Float>, ldc: Int) {
                    self.linear(input, rows: rows, inWidth: inWidth, weight: weight, packed: packed, bias: bias,
                                outWidth: outWidth, into: out, ldc: ldc, workspace: packedWorkspace, threaded: threaded)
                }
                if let packed {
                    // Query, key and value share their input: converted once for the three.
                    PackedMatrix.multiply(x, lda: h, rows: rows,
                                        by: [.init(packed.query, into: qkv, bias: layer.queryBias.base),
                                             .init(packed.key, into: qkv + h, bias: layer.keyBias.base),
                                             .init(packed.value, into: qkv + 2 * h, bias: layer.valueBias.base)],
                                        ldc: 3 * h, workspace: packedWorkspace, threaded: threaded)
                } else {
                    linear(x, inWidth: h, weight: layer.queryWeight, packed: nil, bias: layer.queryBias, outWidth: h,
                           into: qkv, ldc: 3 * h)
                    linear(x, inWidth: h, weight: layer.keyWeight, packed: nil, bias: layer.keyBias, outWidth: h,
                           into: qkv + h, ldc: 3 * h)
                    linear(x, inWidth: h, weight: layer.valueWeight, packed: nil, bias: layer.valueBias, outWidth: h,
                           into: qkv + 2 * h, ldc: 3 * h)
                }
                for b in 0..<ids.count where vectorSteps {
                    converge_attention(qkv + offsets[b] * 3 * h, 3 * h, ids[b].count, heads, headSize, scale,
                                       context + offsets[b] * h, h, attentionScratch)
                }
                for b in 0..<ids.count where !vectorSteps {
                    let valid = ids[b].count
                    let base = offsets[b] * 3 * h
                    for head in 0..<heads {
                        let q = qkv + base + head * headSize
                        let k = q + h, v = q + 2 * h
                        // scores[valid x valid] = scale * Q K^T within the sequence (nothing to mask).
                        kernel.sgemm(transposeB: true, m: valid, n: valid, k: headSize, alpha: scale,
                                     a: q, lda: 3 * h, b: k, ldb: 3 * h, beta: 0, c: scores, ldc: valid,
                                     threaded: threaded)
                        for i in 0..<valid {
                            let row = scores + i * valid
                            var m = -Float.infinity
                            for j in 0..<valid { m = max(m, row[j]) }
                            var sum: Float = 0
                            for j in 0..<valid { let e = expf(row[j] - m); row[j] = e; sum += e }
                            let inv = 1 / sum
                            for j in 0..<valid { row[j] *= inv }
                        }
                        let out = context + offsets[b] * h + head * headSize
                        kernel.sgemm(transposeB: false, m: valid, n: headSize, k: valid, alpha: 1,
                                     a: scores, lda: valid, b: v, ldb: 3 * h, beta: 0, c: out, ldc: h,
                                     threaded: threaded)
                    }
                }
                linear(context, inWidth: h, weight: layer.attentionOutWeight, packed: packed?.attentionOut,
                       bias: layer.attentionOutBias, outWidth: h, into: attended, ldc: h)
                norm(attended, residual: x, rows: rows, weight: layer.attentionNormWeight, bias: layer.attentionNormBias)
                linear(attended, inWidth: h, weight: layer.intermediateWeight, packed: packed?.intermediate,
                       bias: layer.intermediateBias, outWidth: f, into: intermediate, ldc: f)
                if vectorSteps, let packed {
                    // GELU applied while the feed-forward layer is converted for the next product.
                    PackedMatrix.multiply(intermediate, lda: f, rows: rows,
                                        by: [.init(packed.output, into: x, bias: layer.outputBias.base)], ldc: h,
                                        workspace: packedWorkspace, threaded: threaded, geluFirst: true)
                } else {
                    if vectorSteps { converge_gelu(intermediate, rows * f) } else { Self.gelu(intermediate, count: rows * f) }
                    linear(intermediate, inWidth: f, weight: layer.outputWeight, packed: packed?.output,
                           bias: layer.outputBias, outWidth: h, into: x, ldc: h)
                }
                norm(x, residual: attended, rows: rows, weight: layer.outputNormWeight, bias: layer.outputNormBias)
            }
        }
        return result
    }

    /// out[rows x outWidth] (row stride `ldc`) = input[rows x inWidth] * weight^T + bias, weight stored
    /// `[outWidth, inWidth]` as in PyTorch's `Linear`; with `packed` (its BF16 or int8 copy), on that kernel, which
    /// uses `workspace` (`packed.workspaceWords(rows:)` words).
    func linear(_ input: UnsafePointer<Float>, rows: Int, inWidth: Int, weight: FloatTensor, packed: PackedMatrix? = nil,
                bias: FloatTensor, outWidth: Int, into out: UnsafeMutablePointer<Float>, ldc: Int,
                workspace: UnsafeMutablePointer<UInt32>? = nil, threaded: Bool) {
        precondition(weight.count == outWidth * inWidth && bias.count == outWidth && ldc >= outWidth)
        if let packed, let workspace {
            // The kernel starts each row from the bias (the same sums as copying it in first).
            precondition(packed.n == outWidth && packed.k == inWidth)
            PackedMatrix.multiply(input, lda: inWidth, rows: rows, by: [.init(packed, into: out, bias: bias.base)], ldc: ldc,
                                workspace: workspace, threaded: threaded)
            return
        }
        for r in 0..<rows { (out + r * ldc).update(from: bias.base, count: outWidth) }
        kernel.sgemm(transposeB: true, m: rows, n: outWidth, k: inWidth, alpha: 1, a: input, lda: inWidth,
                     b: weight.base, ldb: inWidth, beta: 1, c: out, ldc: ldc, threaded: threaded)
    }

    /// `x = 0.5 x (1 + erf(x / sqrt 2))` (GELU, erf form) on `count` floats at `x`, in place.
    ///
    /// erf is the rational approximation of Eigen's `generic_fast_erf_float` (also XLA's `ErfImpl32`): the input
    /// clamped to [-4, 4] (beyond, erf is +-1 in Float), an odd degree-13 numerator over an even degree-8
    /// denominator in x^2. Against Python's `math.erf` over [-6, 6] (2,000,001 points, Float arithmetic) its
    /// largest error is 4.5e-7, and GELU's 1.0e-6 absolute; libm's `erff` per element was 18% of the encoder's
    /// time, and this loop has no calls, so the compiler vectorises it.
    static func gelu(_ x: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count {
            let v = x[i]
            let u = min(max(v * 0.70710678118654752, -4), 4)
            let u2 = u * u
            var p: Float = -2.72614225801306e-10
            p = p * u2 + 2.77068142495902e-08
            p = p * u2 - 2.10102402082508e-06
            p = p * u2 - 5.69250639462346e-05
            p = p * u2 - 7.34990630326855e-04
            p = p * u2 - 2.95459980854025e-03
            p = p * u2 - 1.60960333262415e-02
            var q: Float = -1.45660718464996e-05
            q = q * u2 - 2.13374055278905e-04
            q = q * u2 - 1.68282697438203e-03
            q = q * u2 - 7.37332916720468e-03
            q = q * u2 - 1.42647390514189e-02
            x[i] = 0.5 * v * (1 + u * p / q)
        }
    }

    /// LayerNorm of each of the `rows` rows of `width` floats at `x`, with `weight` and `bias` of `width`.
    static func layerNorm(_ x: UnsafeMutablePointer<Float>, rows: Int, width: Int, weight: FloatTensor,
                          bias: FloatTensor, eps: Float) {
        precondition(weight.count == width && bias.count == width)
        let w = weight.base, bp = bias.base
        for r in 0..<rows {
            let row = x + r * width
            var mean: Float = 0
            for k in 0..<width { mean += row[k] }
            mean /= Float(width)
            var variance: Float = 0
            for k in 0..<width { let d = row[k] - mean; variance += d * d }
            variance /= Float(width)
            let inv = 1 / (variance + eps).squareRoot()
            for k in 0..<width { row[k] = (row[k] - mean) * inv * w[k] + bp[k] }
        }
    }
}

/// One result slot per concurrent worker; each worker writes only its own slot, and `take` runs after they
/// have all finished (`concurrentPerform` returns then). @unchecked: that discipline is the synchronisation.
final class Slots<Value>: @unchecked Sendable {
    private let values: UnsafeMutableBufferPointer<Value?>

    init(count: Int) { values = .allocate(capacity: count); values.initialize(repeating: nil) }
    deinit { values.deinitialize(); values.deallocate() }

    func put(_ value: Value, at index: Int) { values[index] = value }

    /// The values, in slot order; every slot must have been filled.
    func take() -> [Value] { values.map { $0! } }
}
