import Foundation

/// A low-rank update of a BERT encoder's dense layers (LoRA: Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large
/// Language Models"), merged into the base weights once, when the model loads: for a dense layer `NAME` whose
/// weight `W` is `[out, in]` (PyTorch `Linear` layout, row-major), the adapter holds `NAME.lora_a` `[r, in]` and
/// `NAME.lora_b` `[out, r]` (F32; the LoRA scale α/r already folded into `lora_b`) and the encoder runs with
/// `W + lora_b · lora_a`. Biases, LayerNorms and embeddings stay the base model's, so an adapted encoder costs
/// the same per sentence as the base one.
///
/// The shipped adapter is `ModelAdapter.argKP` (`ArgKPAdapter.swift`, provenance in
/// `models/argkp-adapter/PROVENANCE.md`); `CONVERGE_ENCODER_ADAPTER` chooses whether it is applied
/// (`ModelAdapter.shared`).
public struct ModelAdapter: Sendable {
    /// Short name; the adapted model is named `BASE+NAME` (`all-MiniLM-L6-v2+argkp`).
    public let name: String
    /// Changes whenever the adapter's weights change, so that vectors cached under an older adapter are not
    /// reused (part of `BertEncoder.arithmetic`): `argkp-lora.1`.
    public let version: String
    /// The base model it was trained on (`all-MiniLM-L6-v2`).
    public let base: String
    /// Data, command, seed and scores, in one line.
    public let provenance: String
    /// The `lora_a` / `lora_b` tensors.
    public let file: SafeTensorsFile
    /// The dense layers it updates (tensor names without `.weight`, e.g. `encoder.layer.5.output.dense`).
    public let layers: Set<String>

    /// Reads an adapter from `file`. Throws `EmbeddingModelError.damaged` when a tensor is not `NAME.lora_a` or
    /// `NAME.lora_b`, when a layer lacks one of the two, or when their ranks differ.
    public init(name: String, version: String, base: String, provenance: String, file: SafeTensorsFile) throws {
        self.name = name
        self.version = version
        self.base = base
        self.provenance = provenance
        self.file = file
        var a = Set<String>(), b = Set<String>()
        for tensor in file.tensors.keys {
            if tensor.hasSuffix(".lora_a") {
                a.insert(String(tensor.dropLast(".lora_a".count)))
            } else if tensor.hasSuffix(".lora_b") {
                b.insert(String(tensor.dropLast(".lora_b".count)))
            } else {
                throw EmbeddingModelError.damaged(path: file.path, reason: "tensor \(tensor) is not a .lora_a or .lora_b")
            }
        }
        if let lone = a.symmetricDifference(b).sorted().first {
            throw EmbeddingModelError.damaged(path: file.path, reason: "layer \(lone) lacks lora_a or lora_b")
        }
        for layer in a {
            guard let left = file.tensors[layer + ".lora_a"], let right = file.tensors[layer + ".lora_b"],
                  left.shape.count == 2, right.shape.count == 2, left.shape[0] == right.shape[1]
            else {
                throw EmbeddingModelError.damaged(path: file.path, reason: "layer \(layer): lora_a [r, in] and lora_b [out, r] do not fit")
            }
        }
        layers = a
    }

    /// `weight` (`[rows, columns]`, row-major) plus `lora_b · lora_a` of `layer`, as a new owned tensor, or
    /// `nil` when the adapter does not update `layer`. The product is summed in Float64 and added to the base
    /// weight once (Float32 result). Throws `.damaged` when the factors' shapes do not fit the weight.
    func merged(_ weight: FloatTensor, layer: String, rows: Int, columns: Int) throws -> FloatTensor? {
        guard layers.contains(layer), let info = file.tensors[layer + ".lora_a"] else { return nil }
        let rank = info.shape[0]
        let a = try file.floats(layer + ".lora_a", shape: [rank, columns])
        let b = try file.floats(layer + ".lora_b", shape: [rows, rank])
        precondition(weight.count == rows * columns, "weight of \(layer) is not [\(rows), \(columns)]")
        var out = weight.withUnsafeBufferPointer { Array($0) }
        out.withUnsafeMutableBufferPointer { w in
            a.withUnsafeBufferPointer { a in
                b.withUnsafeBufferPointer { b in
                    var row = [Double](repeating: 0, count: columns)
                    for i in 0..<rows {
                        for j in 0..<columns { row[j] = 0 }
                        for r in 0..<rank {
                            let bir = Double(b[i * rank + r])
                            let aRow = r * columns
                            for j in 0..<columns { row[j] += bir * Double(a[aRow + j]) }
                        }
                        let wRow = i * columns
                        for j in 0..<columns { w[wRow + j] = Float(Double(w[wRow + j]) + row[j]) }
                    }
                }
            }
        }
        return FloatTensor(owning: out, shape: [rows, columns])
    }

    /// The adapter `CONVERGE_ENCODER_ADAPTER` chooses, read once per process: unset, empty or `none` means no
    /// adapter (the base model's vectors); `argkp` means `ModelAdapter.argKP`. Another value is reported on
    /// standard error once and means no adapter.
    public static let shared: ModelAdapter? = named(asked)

    /// `CONVERGE_ENCODER_ADAPTER` as this process was given it (nil when unset).
    public static let asked = ProcessInfo.processInfo.environment["CONVERGE_ENCODER_ADAPTER"]

    /// Whether `name` names no adapter and is not a way of saying none (nil, empty, `none`): a mistake to report.
    public static func isUnknown(_ name: String?) -> Bool {
        !["", "none", "argkp"].contains(name?.lowercased() ?? "")
    }

    /// The adapter called `name` (`argkp`), or `nil` for `nil`, empty, `none` and (with a warning on standard
    /// error) unknown names (`isUnknown`).
    public static func named(_ name: String?) -> ModelAdapter? {
        if isUnknown(name) {
            let message = "converge: CONVERGE_ENCODER_ADAPTER=\(name ?? "") is not an adapter (argkp or none); using none\n"
            FileHandle.standardError.write(Data(message.utf8))
            return nil
        }
        return name?.lowercased() == "argkp" ? argKP : nil
    }
}
