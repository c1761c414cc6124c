import COpenBLAS
import Foundation

/// A low-rank update of a BERT encoder's dense layers (LoRA: Hu et al. 2021, "LoRA: Low-Rank Adaptation of
/// Large Language Models"), merged into the base weights when the model loads: for a layer `NAME` whose weight
/// `W` is `[out, in]` (PyTorch `Linear` layout), the adapter holds `NAME.lora_a` `[r, in]` and `NAME.lora_b`
/// `[out, r]` (F32, the LoRA scale already folded into `lora_b`), and the encoder uses `W + lora_b · lora_a`.
/// Biases, LayerNorms and embeddings are the base model's.
///
/// The shipped adapter, `ModelAdapter.argKP`, is trained by `scripts/train-matcher.py` on ArgKP train
/// (see `ArgKPAdapter.swift` for its provenance); it is a few hundred KB of source, so no file lookup is
/// needed at run time.
public struct ModelAdapter: Sendable {
    /// Short name, appended to the model's name in reports (`all-MiniLM-L6-v2+argkp`).
    public let name: String
    /// The base model it was trained on (`all-MiniLM-L6-v2`).
    public let base: String
    /// Data, command, seed and scores.
    public let provenance: String
    public let file: SafeTensorsFile
    /// The dense layers it updates (tensor names without `.weight`).
    public let layers: Set<String>

    /// Reads an adapter from safetensors `file`. Throws `.damaged` when a tensor is not `NAME.lora_a` or
    /// `NAME.lora_b`, or when a layer lacks one of the two.
    public init(name: String, base: String, provenance: String, file: SafeTensorsFile) throws {
        self.name = name
        self.base = base
        self.provenance = provenance
        self.file = file
        var a = Set<String>(), b = Set<String>()
        for tensor in file.tensors.keys {
            if tensor.hasSuffix(".lora_a") { a.insert(String(tensor.dropLast(".lora_a".count))) }
            else if tensor.hasSuffix(".lora_b") { b.insert(String(tensor.dropLast(".lora_b".count))) }
            else { throw EmbeddingModelError.damaged(path: file.path, reason: "tensor \(tensor) is not a .lora_a or .lora_b") }
        }
        if let lone = a.symmetricDifference(b).sorted().first {
            throw EmbeddingModelError.damaged(path: file.path, reason: "layer \(lone) lacks lora_a or lora_b")
        }
        layers = a
    }

    /// Adds `lora_b · lora_a` of `layer` to `weight` (`rows x columns`, row-major) and returns true, or
    /// returns false when the adapter does not update `layer`. Throws `.damaged` when the factors' shapes do
    /// not fit the weight.
    func merge(into weight: inout [Float], layer: String, rows: Int, columns: Int) throws -> Bool {
        guard layers.contains(layer), let info = file.tensors[layer + ".lora_a"], info.shape.count == 2 else { return false }
        let rank = info.shape[0]
        let a = try file.floats(layer + ".lora_a", shape: [rank, columns])
        let b = try file.floats(layer + ".lora_b", shape: [rows, rank])
        precondition(weight.count == rows * columns)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(columns), Int32(rank), 1,
                    b, Int32(rank), a, Int32(columns), 1, &weight, Int32(columns))
        return true
    }
}
