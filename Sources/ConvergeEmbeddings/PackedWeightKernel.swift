import CConvergeKernels
import Dispatch
import Foundation

/// The arithmetic of the encoder's weight products (the query, key, value, attention-output and feed-forward
/// `Linear` layers): Float32 through `MatrixKernel`; BF16 operands with Float32 accumulation on AVX512-BF16; or
/// int8 weights and uint8 activations with Int32 sums on AVX512-VNNI, scaled back in Float32.
///
/// `CONVERGE_ENCODER_PRECISION` chooses: `float32` (or `f32`, `fp32`), `bf16`, `int8`, or unset / `auto` for the
/// default (`defaultKind`). `bf16` needs a CPU and OS with AVX512-BF16 (`vdpbf16ps`), `int8` one with AVX512-VNNI
/// (`vpdpbusd`); without it the encoder runs the next one down that the CPU has (int8, then bf16, then float32)
/// and `reason` says why. int8 rounds the weights to int8 with a scale (max |w| / 127) per output row and group of
/// 32 inputs, and each token's inputs to uint8 with a scale and zero point per group (`int8_gemm.c`; BENCHMARKS.md,
/// "Issue 16: the int8 kernel", has the simulations the grouping was chosen by). Attention (scores and their
/// weighted sum), softmax, GELU and LayerNorm are Float32 in all three; with bf16 and int8 they run on
/// CConvergeKernels' vector kernels (`BertEncoder.vectorSteps`).
public struct EncoderPrecision: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, CaseIterable { case float32, bf16, int8 }

    /// The arithmetic the encoder runs.
    public let kind: Kind
    /// Why: the environment variable's value, the default, or that the CPU lacks what was asked for.
    public let reason: String

    public init(_ kind: Kind, reason: String) {
        self.kind = kind
        self.reason = reason
    }

    public static let float32 = EncoderPrecision(.float32, reason: "requested")
    public static let bf16 = EncoderPrecision(.bf16, reason: "requested")
    public static let int8 = EncoderPrecision(.int8, reason: "requested")

    /// The environment variable that chooses the precision.
    public static let environmentVariable = "CONVERGE_ENCODER_PRECISION"

    /// What unset (or `auto`) means where AVX512-BF16 runs: BENCHMARKS.md ("Issue 16: BF16 weight products")
    /// has the measurements it was chosen by.
    public static let defaultKind: Kind = .bf16

    /// Whether this CPU and OS run the BF16 kernel (AVX512F, BW, VL and BF16).
    public static let bf16Supported: Bool = converge_bf16_supported() != 0

    /// Whether this CPU and OS run the int8 kernel (AVX512F, BW, VL and VNNI).
    public static let int8Supported: Bool = converge_int8_supported() != 0

    /// Whether the weight products run on a packed reduced-precision kernel (bf16 or int8), which also means the
    /// vector steps between them by default.
    public var isReduced: Bool { kind != .float32 }

    /// One line: `bf16 (AVX512-BF16 weight products, Float32 accumulation; CONVERGE_ENCODER_PRECISION=bf16)`.
    public var description: String {
        switch kind {
        case .float32: return "float32 (\(reason))"
        case .bf16: return "bf16 (AVX512-BF16 weight products, Float32 accumulation; \(reason))"
        case .int8:
            return "int8 (AVX512-VNNI weight products: int8 weights and uint8 activations scaled per 32 inputs, Int32 sums; \(reason))"
        }
    }

    /// `kind` if this CPU runs it, else the next one down it runs, saying why.
    public func available() -> EncoderPrecision {
        switch kind {
        case .int8 where !Self.int8Supported:
            return EncoderPrecision(.bf16, reason: "int8 asked (\(reason)), but this CPU has no AVX512-VNNI").available()
        case .bf16 where !Self.bf16Supported:
            return EncoderPrecision(.float32, reason: "bf16 asked (\(reason)), but this CPU has no AVX512-BF16")
        default:
            return self
        }
    }

    /// The precision `CONVERGE_ENCODER_PRECISION` in `environment` asks for (see the type's documentation), as
    /// this CPU can run it. An unknown value means the default, and the reason says so.
    public static func load(environment: [String: String] = ProcessInfo.processInfo.environment) -> EncoderPrecision {
        let value = environment[environmentVariable]?.trimmingCharacters(in: .whitespaces) ?? ""
        let choice: EncoderPrecision
        switch value.lowercased() {
        case "":
            choice = EncoderPrecision(defaultKind, reason: "default")
        case "auto":
            choice = EncoderPrecision(defaultKind, reason: "default, \(environmentVariable)=\(value)")
        case "float32", "f32", "fp32":
            choice = EncoderPrecision(.float32, reason: "\(environmentVariable)=\(value)")
        case "bf16", "bfloat16":
            choice = EncoderPrecision(.bf16, reason: "\(environmentVariable)=\(value)")
        case "int8":
            choice = EncoderPrecision(.int8, reason: "\(environmentVariable)=\(value)")
        default:
            choice = EncoderPrecision(defaultKind, reason: "default: \(environmentVariable)=\(value) is not float32, bf16, int8 or auto")
        }
        return choice.available()
    }

    /// The precision of this process, chosen once from its environment.
    public static let shared = load()
}

/// A weight matrix `[n, k]` (PyTorch `Linear`, `[out, in]`) converted once to a reduced precision and packed in
/// the layout its kernel reads: BF16 for the AVX512-BF16 kernel (panels of `CONVERGE_BF16_NR` output columns, pairs
/// adjacent in `k`), or int8 for the AVX512-VNNI kernel (panels of `CONVERGE_INT8_NR` columns, quads adjacent in
/// `k`, with each column's scale and scaled sum per group of 32 inputs).
final class PackedMatrix: @unchecked Sendable {
    // @unchecked: `packed` is written once in init and only read afterwards.
    /// `.bf16` or `.int8`.
    let format: EncoderPrecision.Kind
    let n: Int, k: Int
    let packed: UnsafeMutablePointer<UInt32>

    /// Converts `weight` (`n x k` floats, row-major) to `format` (`.bf16` or `.int8`). Requires that this CPU runs
    /// that format's kernel (`EncoderPrecision.bf16Supported`, `.int8Supported`).
    init(_ weight: UnsafePointer<Float>, n: Int, k: Int, format: EncoderPrecision.Kind) {
        precondition(n > 0 && k > 0)
        switch format {
        case .bf16: precondition(EncoderPrecision.bf16Supported)
        case .int8: precondition(EncoderPrecision.int8Supported)
        case .float32: preconditionFailure("a packed matrix is bf16 or int8")
        }
        self.format = format
        self.n = n
        self.k = k
        let words = format == .bf16 ? converge_bf16_packed_weight_words(n, k) : converge_int8_packed_weight_words(n, k)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: words * 4, alignment: 64)
        packed = raw.bindMemory(to: UInt32.self, capacity: words)
        if format == .bf16 {
            converge_bf16_pack_weights(weight, n, k, k, packed)
        } else {
            converge_int8_pack_weights(weight, n, k, k, packed)
        }
    }

    deinit { packed.deallocate() }

    /// 32-bit words of workspace `multiply` needs for `m` rows.
    func workspaceWords(rows m: Int) -> Int {
        format == .bf16 ? converge_bf16_workspace_words(m, k) : converge_int8_workspace_words(m, k)
    }

    /// Rows per micro-tile: a split of the rows between threads falls on a multiple of it.
    var tileRows: Int { format == .bf16 ? Int(CONVERGE_BF16_MR) : Int(CONVERGE_INT8_MR) }

    /// `c[m x n] += a[m x k] * weight^T` (`a` row stride `lda`, `c` row stride `ldc`), `a` rounded to the format and
    /// the products summed in Float32. `workspace` holds `workspaceWords(rows: m)` words. `threaded` spreads the
    /// rows over the active cores (each part on its own slice of `workspace`); the results do not depend on it.
    func multiply(_ a: UnsafePointer<Float>, lda: Int, rows m: Int, into c: UnsafeMutablePointer<Float>, ldc: Int,
                  workspace: UnsafeMutablePointer<UInt32>, threaded: Bool) {
        Self.multiply(a, lda: lda, rows: m, by: [Product(self, into: c)], ldc: ldc, workspace: workspace, threaded: threaded)
    }

    /// One product of `multiply(_:lda:rows:by:ldc:workspace:threaded:)`: `c += a * matrix^T`, or with `bias`
    /// (`matrix.n` floats) `c = bias + a * matrix^T` (`c` not read; the bits of copying `bias` into `c` first).
    struct Product {
        let matrix: PackedMatrix
        let c: UnsafeMutablePointer<Float>
        let bias: UnsafePointer<Float>?

        init(_ matrix: PackedMatrix, into c: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>? = nil) {
            self.matrix = matrix
            self.c = c
            self.bias = bias
        }
    }

    /// Each of `products` (all of the same depth `k` and format) on `a[m x k]` as
    /// `multiply(_:lda:rows:into:ldc:workspace:threaded:)` does, with `a` converted once for all of them (the query,
    /// key and value products share their input). With `geluFirst`, the products are of GELU(`a`) (GELU applied in
    /// the conversion; `a` is not changed).
    static func multiply(_ a: UnsafePointer<Float>, lda: Int, rows m: Int, by products: [Product],
                         ldc: Int, workspace: UnsafeMutablePointer<UInt32>, threaded: Bool, geluFirst: Bool = false) {
        guard m > 0, let first = products.first?.matrix else { return }
        let k = first.k, format = first.format
        precondition(products.allSatisfy { $0.matrix.k == k && $0.matrix.format == format && ldc >= $0.matrix.n })
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let tileRows = first.tileRows
        let tiles = (m + tileRows - 1) / tileRows
        let work = m * k * products.reduce(0) { $0 + $1.matrix.n }
        let parts = threaded ? min(cores, tiles, max(1, work / (1 << 20))) : 1
        // Both formats' workspaces are a fixed number of words per (padded) row, so a part's rows have a
        // self-contained workspace at their first row's offset.
        let wordsPerRow = first.workspaceWords(rows: tileRows) / tileRows
        struct Operands: @unchecked Sendable {
            // The parts read `a` and the packed weights and write disjoint rows of each `c` and slices of `workspace`.
            let a: UnsafePointer<Float>, workspace: UnsafeMutablePointer<UInt32>
            let products: [Product]
        }
        let operands = Operands(a: a, workspace: workspace, products: products)
        let part: @Sendable (Int) -> Void = { part in
            let t0 = tiles * part / parts, t1 = tiles * (part + 1) / parts
            let r0 = t0 * tileRows, r1 = min(m, t1 * tileRows)
            guard r1 > r0 else { return }
            let slice = operands.workspace + r0 * wordsPerRow
            let input = operands.a + r0 * lda
            switch format {
            case .int8:
                converge_int8_pack_activations(input, lda, r1 - r0, k, geluFirst ? 1 : 0, slice)
                for product in operands.products {
                    converge_int8_gemm_packed(slice, r1 - r0, product.matrix.packed, product.matrix.n, k,
                                              product.c + r0 * ldc, ldc, product.bias)
                }
            default:
                if geluFirst {
                    converge_gelu_pack_activations(input, lda, r1 - r0, k, slice)
                } else {
                    converge_bf16_pack_activations(input, lda, r1 - r0, k, slice)
                }
                for product in operands.products {
                    converge_bf16_gemm_packed(slice, r1 - r0, product.matrix.packed, product.matrix.n, k,
                                              product.c + r0 * ldc, ldc, product.bias)
                }
            }
        }
        if parts <= 1 {
            part(0)
        } else {
            DispatchQueue.concurrentPerform(iterations: parts, execute: part)
        }
    }
}
