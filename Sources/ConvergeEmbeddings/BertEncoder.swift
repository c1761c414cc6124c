import COpenBLAS
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

/// A BERT encoder's weights and its forward pass, in Float32 through CBLAS (OpenBLAS).
///
/// Forward pass as in Devlin et al. (2019) and Hugging Face `BertModel`: word + position + token-type
/// embeddings and LayerNorm; then per layer multi-head self-attention (scaled dot product, padding masked out),
/// output projection, residual and LayerNorm, a GELU (erf form) feed-forward block, residual and LayerNorm.
/// `poolMean` then averages the last hidden states over the real (unpadded) tokens and L2-normalises, as
/// sentence-transformers' `Pooling(mean)` + `Normalize` do.
public final class BertEncoder: @unchecked Sendable {
    // @unchecked: every stored property is immutable after init; `forward` allocates its own buffers.
    public let config: BertConfig

    struct Layer {
        var qkvWeight: [Float]  // [3H, H]: query, key, value rows stacked
        var qkvBias: [Float]    // [3H]
        var attentionOutWeight: [Float], attentionOutBias: [Float]
        var attentionNormWeight: [Float], attentionNormBias: [Float]
        var intermediateWeight: [Float], intermediateBias: [Float]
        var outputWeight: [Float], outputBias: [Float]
        var outputNormWeight: [Float], outputNormBias: [Float]
    }

    let wordEmbeddings: [Float], positionEmbeddings: [Float], typeEmbeddings: [Float]
    let embeddingNormWeight: [Float], embeddingNormBias: [Float]
    let layers: [Layer]

    /// Loads the weights named as in Hugging Face `BertModel` (with or without a `bert.` prefix) from
    /// `weights`, checking every shape against `config`, and merges `adapter`'s low-rank deltas into the dense
    /// layers it names (`ModelAdapter.merge`). Throws `EmbeddingModelError.damaged` naming the tensor.
    public init(config: BertConfig, weights: SafeTensorsFile, adapter: ModelAdapter? = nil) throws {
        self.config = config
        let h = config.hiddenSize, f = config.intermediateSize
        let prefix = weights.tensors["embeddings.word_embeddings.weight"] == nil
            && weights.tensors["bert.embeddings.word_embeddings.weight"] != nil ? "bert." : ""
        var merged = Set<String>()
        func t(_ name: String, _ shape: [Int]) throws -> [Float] {
            var w = try weights.floats(prefix + name, shape: shape)
            if let adapter, name.hasSuffix(".weight"), shape.count == 2,
               try adapter.merge(into: &w, layer: String(name.dropLast(".weight".count)), rows: shape[0], columns: shape[1]) {
                merged.insert(String(name.dropLast(".weight".count)))
            }
            return w
        }
        wordEmbeddings = try t("embeddings.word_embeddings.weight", [config.vocabSize, h])
        positionEmbeddings = try t("embeddings.position_embeddings.weight", [config.maxPositions, h])
        typeEmbeddings = try t("embeddings.token_type_embeddings.weight", [config.typeVocabSize, h])
        embeddingNormWeight = try t("embeddings.LayerNorm.weight", [h])
        embeddingNormBias = try t("embeddings.LayerNorm.bias", [h])
        layers = try (0..<config.layers).map { l in
            let p = "encoder.layer.\(l)."
            return Layer(
                qkvWeight: try t(p + "attention.self.query.weight", [h, h]) + t(p + "attention.self.key.weight", [h, h])
                    + t(p + "attention.self.value.weight", [h, h]),
                qkvBias: try t(p + "attention.self.query.bias", [h]) + t(p + "attention.self.key.bias", [h])
                    + t(p + "attention.self.value.bias", [h]),
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
    }

    /// Mean-pooled, L2-normalised sentence vectors for a batch of token-id sequences (each already with its
    /// special tokens, at most `config.maxPositions` long, ids below `config.vocabSize`). Sequences are padded
    /// to the longest in the batch; padding is masked out of attention and pooling. Returns `ids.count`
    /// vectors of `config.hiddenSize` floats.
    public func embed(_ ids: [[Int32]]) -> [[Float]] {
        let hidden = forward(ids)
        let h = config.hiddenSize
        let length = ids.map(\.count).max() ?? 0
        return ids.enumerated().map { b, sequence in
            var v = [Float](repeating: 0, count: h)
            for t in 0..<sequence.count {
                let row = (b * length + t) * h
                for k in 0..<h { v[k] += hidden[row + k] }
            }
            var norm: Float = 0
            for k in 0..<h { v[k] /= Float(max(sequence.count, 1)); norm += v[k] * v[k] }
            norm = max(norm.squareRoot(), 1e-12)
            for k in 0..<h { v[k] /= norm }
            return v
        }
    }

    /// Last hidden states, `[batch * length * hidden]` row-major, padded positions included.
    func forward(_ ids: [[Int32]]) -> [Float] {
        let h = config.hiddenSize, f = config.intermediateSize
        let batch = ids.count
        let length = ids.map(\.count).max() ?? 0
        let rows = batch * length
        guard rows > 0 else { return [] }
        let heads = config.heads, headSize = h / heads
        let eps = config.layerNormEps

        var x = [Float](repeating: 0, count: rows * h)
        for (b, sequence) in ids.enumerated() {
            for (t, id) in sequence.enumerated() {
                let token = Int(id), row = (b * length + t) * h
                for k in 0..<h {
                    x[row + k] = wordEmbeddings[token * h + k] + positionEmbeddings[t * h + k] + typeEmbeddings[k]
                }
            }
        }
        Self.layerNorm(&x, rows: rows, width: h, weight: embeddingNormWeight, bias: embeddingNormBias, eps: eps)

        var qkv = [Float](repeating: 0, count: rows * 3 * h)
        var context = [Float](repeating: 0, count: rows * h)
        var attended = [Float](repeating: 0, count: rows * h)
        var intermediate = [Float](repeating: 0, count: rows * f)
        var scores = [Float](repeating: 0, count: length * length)
        let scale = 1 / Float(headSize).squareRoot()

        for layer in layers {
            Self.linear(x, rows: rows, inWidth: h, weight: layer.qkvWeight, bias: layer.qkvBias, outWidth: 3 * h, into: &qkv)
            qkv.withUnsafeBufferPointer { qkvp in
                context.withUnsafeMutableBufferPointer { cp in
                    scores.withUnsafeMutableBufferPointer { sp in
                        for b in 0..<batch {
                            let valid = ids[b].count
                            let base = b * length * 3 * h
                            for head in 0..<heads {
                                let q = qkvp.baseAddress! + base + head * headSize
                                let k = q + h, v = q + 2 * h
                                // scores[valid x valid] = scale * Q K^T over the real tokens only; padded
                                // query rows are never read, padded keys get weight 0 (masked).
                                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(valid), Int32(valid),
                                            Int32(headSize), scale, q, Int32(3 * h), k, Int32(3 * h), 0,
                                            sp.baseAddress!, Int32(valid))
                                for i in 0..<valid {
                                    let row = sp.baseAddress! + i * valid
                                    var m = -Float.infinity
                                    for j in 0..<valid { m = max(m, row[j]) }
                                    var sum: Float = 0
                                    for j in 0..<valid { let e = expf(row[j] - m); row[j] = e; sum += e }
                                    let inv = 1 / sum
                                    for j in 0..<valid { row[j] *= inv }
                                }
                                let out = cp.baseAddress! + b * length * h + head * headSize
                                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(valid), Int32(headSize),
                                            Int32(valid), 1, sp.baseAddress!, Int32(valid), v, Int32(3 * h), 0,
                                            out, Int32(h))
                            }
                        }
                    }
                }
            }
            Self.linear(context, rows: rows, inWidth: h, weight: layer.attentionOutWeight, bias: layer.attentionOutBias,
                        outWidth: h, into: &attended)
            for i in 0..<(rows * h) { attended[i] += x[i] }
            Self.layerNorm(&attended, rows: rows, width: h, weight: layer.attentionNormWeight,
                           bias: layer.attentionNormBias, eps: eps)
            Self.linear(attended, rows: rows, inWidth: h, weight: layer.intermediateWeight, bias: layer.intermediateBias,
                        outWidth: f, into: &intermediate)
            intermediate.withUnsafeMutableBufferPointer { p in
                for i in 0..<p.count {
                    let v = p[i]
                    p[i] = 0.5 * v * (1 + erff(v * 0.70710678118654752))
                }
            }
            Self.linear(intermediate, rows: rows, inWidth: f, weight: layer.outputWeight, bias: layer.outputBias,
                        outWidth: h, into: &x)
            for i in 0..<(rows * h) { x[i] += attended[i] }
            Self.layerNorm(&x, rows: rows, width: h, weight: layer.outputNormWeight, bias: layer.outputNormBias, eps: eps)
        }
        return x
    }

    /// out[rows x outWidth] = input[rows x inWidth] * weight^T + bias, weight stored `[outWidth, inWidth]` as
    /// in PyTorch's `Linear`.
    static func linear(_ input: [Float], rows: Int, inWidth: Int, weight: [Float], bias: [Float], outWidth: Int,
                       into out: inout [Float]) {
        out.withUnsafeMutableBufferPointer { o in
            for r in 0..<rows { (o.baseAddress! + r * outWidth).update(from: bias, count: outWidth) }
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(outWidth), Int32(inWidth), 1,
                        input, Int32(inWidth), weight, Int32(inWidth), 1, o.baseAddress!, Int32(outWidth))
        }
    }

    static func layerNorm(_ x: inout [Float], rows: Int, width: Int, weight: [Float], bias: [Float], eps: Float) {
        x.withUnsafeMutableBufferPointer { p in
            for r in 0..<rows {
                let row = p.baseAddress! + r * width
                var mean: Float = 0
                for k in 0..<width { mean += row[k] }
                mean /= Float(width)
                var variance: Float = 0
                for k in 0..<width { let d = row[k] - mean; variance += d * d }
                variance /= Float(width)
                let inv = 1 / (variance + eps).squareRoot()
                for k in 0..<width { row[k] = (row[k] - mean) * inv * weight[k] + bias[k] }
            }
        }
    }
}
