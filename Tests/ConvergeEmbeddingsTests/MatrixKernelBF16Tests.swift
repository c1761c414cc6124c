@testable import ConvergeEmbeddings
import Foundation
import Testing

/// The AVX512-BF16 kernel of the encoder's weight products (`PackedMatrix` in BF16) against a Float64 triple loop on
/// awkward shapes (every tail of its 12 x 32 micro-tile, odd depths, depth blocks), and how
/// `CONVERGE_ENCODER_PRECISION` chooses. The kernel tests run only where the CPU has AVX512-BF16.
@Suite struct MatrixKernelBF16Tests {
    struct Case: CustomTestStringConvertible, Sendable {
        var m: Int, n: Int, k: Int, pad: Int
        var testDescription: String { "\(m)x\(n)x\(k) pad=\(pad)" }
    }

    /// Around the micro-tile (12 rows, 32 columns), odd and even depths, depth blocks of 192 pairs (a depth of 385
    /// is 193 pairs: two blocks), and the encoder's own shapes (384 -> 384, 384 -> 1536, 1536 -> 384).
    static let cases: [Case] = [
        Case(m: 1, n: 1, k: 1, pad: 0),
        Case(m: 3, n: 7, k: 5, pad: 3),
        Case(m: 11, n: 31, k: 2, pad: 0),
        Case(m: 12, n: 32, k: 64, pad: 0),
        Case(m: 13, n: 33, k: 31, pad: 1),
        Case(m: 25, n: 65, k: 193, pad: 2),
        Case(m: 37, n: 17, k: 385, pad: 5),
        Case(m: 131, n: 384, k: 384, pad: 0),
        Case(m: 29, n: 1536, k: 384, pad: 0),
        Case(m: 23, n: 384, k: 1536, pad: 0),
        Case(m: 5, n: 40, k: 1537, pad: 7),
    ]

    /// Seeded values `a` (`m x (k + pad)`), `w` (`n x k`), `c` (`m x (n + pad)`); with `exact`, multiples of 1/16 in
    /// [-1, 1] (exact in BF16, and every sum of their products exact in Float32), else multiples of 1/1000.
    static func operands(_ t: Case, exact: Bool) -> (a: [Float], w: [Float], c: [Float]) {
        var state: UInt64 = 0x2545_F491_4F6C_DD1D &+ UInt64(t.m * 1_000_003 + t.n * 1009 + t.k)
        func next() -> Float {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let r = Int64(bitPattern: state >> 11)
            return exact ? Float(r % 33 - 16) / 16 : Float(r % 2001 - 1000) / 1000
        }
        let a = (0..<(t.m * (t.k + t.pad))).map { _ in next() }
        let w = (0..<(t.n * t.k)).map { _ in next() }
        let c = (0..<(t.m * (t.n + t.pad))).map { _ in next() }
        return (a, w, c)
    }

    /// `c + a * w^T` in Float64, and for each element the sum of |a| |w| over the depth (the error bound's scale).
    static func reference(_ t: Case, a: [Float], w: [Float], c: [Float]) -> (value: [Double], scale: [Double]) {
        let lda = t.k + t.pad, ldc = t.n + t.pad
        var value = c.map(Double.init), scale = [Double](repeating: 0, count: c.count)
        for i in 0..<t.m {
            for j in 0..<t.n {
                var sum = 0.0, magnitude = 0.0
                for p in 0..<t.k {
                    let product = Double(a[i * lda + p]) * Double(w[j * t.k + p])
                    sum += product
                    magnitude += abs(product)
                }
                value[i * ldc + j] += sum
                scale[i * ldc + j] = magnitude
            }
        }
        return (value, scale)
    }

    /// `PackedMatrix(w, format: format).multiply(a, into: c)`.
    static func run(_ t: Case, a: [Float], w: [Float], c: [Float], threaded: Bool,
                    format: EncoderPrecision.Kind = .bf16) -> [Float] {
        let matrix = w.withUnsafeBufferPointer { PackedMatrix($0.baseAddress!, n: t.n, k: t.k, format: format) }
        var out = c
        let workspace = UnsafeMutablePointer<UInt32>.allocate(capacity: matrix.workspaceWords(rows: t.m))
        defer { workspace.deallocate() }
        a.withUnsafeBufferPointer { ap in
            out.withUnsafeMutableBufferPointer { cp in
                matrix.multiply(ap.baseAddress!, lda: t.k + t.pad, rows: t.m, into: cp.baseAddress!, ldc: t.n + t.pad,
                                workspace: workspace, threaded: threaded)
            }
        }
        return out
    }

    /// Rounding both operands to BF16 (8 significant bits, round to nearest even) changes each product by at most
    /// 2^-7 of its magnitude; Float32 sums of k terms add at most k 2^-24 of the magnitudes' sum, and adding to C
    /// one rounding more. Padding columns of C (beyond n) must be left alone.
    @Test(.enabled(if: EncoderPrecision.bf16Supported, "this CPU has no AVX512-BF16"), arguments: cases)
    func bf16KernelIsWithinBF16RoundingOfAFloat64TripleLoop(_ t: Case) {
        let (a, w, c) = Self.operands(t, exact: false)
        let (expected, scale) = Self.reference(t, a: a, w: w, c: c)
        let got = Self.run(t, a: a, w: w, c: c, threaded: false)
        var failures = 0
        var worst = 0.0
        for index in got.indices {
            let error = abs(Double(got[index]) - expected[index])
            let bound = scale[index] * (0x1p-7 + Double(t.k + 1) * 0x1p-24) + abs(expected[index]) * 0x1p-23
            worst = max(worst, scale[index] > 0 ? error / scale[index] : error)
            if error > bound { failures += 1 }
        }
        #expect(failures == 0, "\(t.testDescription): \(failures) elements beyond the bound; worst error/scale \(worst)")
    }

    /// Operands exact in BF16 whose products sum exactly in Float32: the kernel must give the exact result.
    @Test(.enabled(if: EncoderPrecision.bf16Supported, "this CPU has no AVX512-BF16"), arguments: cases)
    func bf16KernelIsExactOnBF16Values(_ t: Case) {
        let (a, w, c) = Self.operands(t, exact: true)
        let (expected, _) = Self.reference(t, a: a, w: w, c: c)
        let got = Self.run(t, a: a, w: w, c: c, threaded: false)
        let wrong = got.indices.filter { Double(got[$0]) != expected[$0] }
        #expect(wrong.isEmpty, "\(t.testDescription): \(wrong.count) differ, first at \(wrong.first ?? -1)")
    }

    /// Split over the cores or not, every element is summed in the same order: the same bits.
    @Test(.enabled(if: EncoderPrecision.bf16Supported, "this CPU has no AVX512-BF16"))
    func threadsDoNotChangeTheResult() {
        Self.checkThreads(format: .bf16)
    }

    /// `threadsDoNotChangeTheResult` for `format` (shared with the int8 tests).
    static func checkThreads(format: EncoderPrecision.Kind) {
        let t = Case(m: 131, n: 200, k: 384, pad: 3)
        let (a, w, c) = operands(t, exact: false)
        #expect(run(t, a: a, w: w, c: c, threaded: true, format: format)
                == run(t, a: a, w: w, c: c, threaded: false, format: format), "\(format)")
    }

    /// Three matrices of one depth on one conversion of the activations (the query, key and value products) give
    /// the bits of three separate products, split over the cores or not.
    @Test(.enabled(if: EncoderPrecision.bf16Supported, "this CPU has no AVX512-BF16"))
    func sharedConversionEqualsSeparateProducts() {
        Self.checkSharedConversion(format: .bf16, depth: 97)
    }

    /// `sharedConversionEqualsSeparateProducts` for `format` at depth `k` (shared with the int8 tests).
    static func checkSharedConversion(format: EncoderPrecision.Kind, depth k: Int) {
        let m = 75, widths = [33, 64, 5], ldc = widths.reduce(0, +) + 2
        let t = Case(m: m, n: ldc, k: k, pad: 1)
        let (a, _, c) = Self.operands(t, exact: false)
        let matrices = widths.map { n in
            let (_, w, _) = Self.operands(Case(m: 1, n: n, k: k, pad: 0), exact: false)
            return w.withUnsafeBufferPointer { PackedMatrix($0.baseAddress!, n: n, k: k, format: format) }
        }
        let workspace = UnsafeMutablePointer<UInt32>.allocate(capacity: matrices[0].workspaceWords(rows: m))
        defer { workspace.deallocate() }
        var separate = c
        a.withUnsafeBufferPointer { ap in
            separate.withUnsafeMutableBufferPointer { cp in
                var column = 0
                for matrix in matrices {
                    matrix.multiply(ap.baseAddress!, lda: k + 1, rows: m, into: cp.baseAddress! + column, ldc: ldc,
                                    workspace: workspace, threaded: false)
                    column += matrix.n
                }
            }
        }
        for threaded in [false, true] {
            var shared = c
            a.withUnsafeBufferPointer { ap in
                shared.withUnsafeMutableBufferPointer { cp in
                    let base = cp.baseAddress!
                    PackedMatrix.multiply(ap.baseAddress!, lda: k + 1, rows: m,
                                          by: [.init(matrices[0], into: base), .init(matrices[1], into: base + 33),
                                               .init(matrices[2], into: base + 97)],
                                          ldc: ldc, workspace: workspace, threaded: threaded)
                }
            }
            #expect(shared == separate, "\(format), threaded: \(threaded)")
        }
    }

    @Test func theEnvironmentChoosesThePrecision() {
        let variable = EncoderPrecision.environmentVariable
        #expect(variable == "CONVERGE_ENCODER_PRECISION")
        for value in ["float32", "F32", "fp32"] {
            #expect(EncoderPrecision.load(environment: [variable: value]) == EncoderPrecision(.float32, reason: "\(variable)=\(value)"))
        }
        #expect(EncoderPrecision.load(environment: [:]).kind
                == (EncoderPrecision.bf16Supported ? EncoderPrecision.defaultKind : .float32))
        #expect(EncoderPrecision.load(environment: [variable: "auto"]).kind == EncoderPrecision.load(environment: [:]).kind)
        let bf16 = EncoderPrecision.load(environment: [variable: "bf16"])
        if EncoderPrecision.bf16Supported {
            #expect(bf16 == EncoderPrecision(.bf16, reason: "\(variable)=bf16"))
        } else {
            #expect(bf16.kind == .float32 && bf16.reason.contains("no AVX512-BF16"), "\(bf16)")
        }
        let int8 = EncoderPrecision.load(environment: [variable: "int8"])
        if EncoderPrecision.int8Supported {
            #expect(int8 == EncoderPrecision(.int8, reason: "\(variable)=int8"))
        } else {
            #expect(int8.kind != .int8 && int8.reason.contains("no AVX512-VNNI"), "\(int8)")
        }
        let unknown = EncoderPrecision.load(environment: [variable: "int4"])
        #expect(unknown.reason.contains("int4 is not float32, bf16, int8 or auto"), "\(unknown)")
    }
}
