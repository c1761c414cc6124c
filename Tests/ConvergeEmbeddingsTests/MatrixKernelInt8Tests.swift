import CConvergeKernels
@testable import ConvergeEmbeddings
import Foundation
import Testing

/// The AVX512-VNNI kernel of the encoder's int8 weight products (`PackedMatrix` in int8) on awkward shapes (every
/// tail of its 6 x 32 micro-tile, depths that are not whole groups of 32, depth blocks of 24 groups): against an
/// independent Float64 model of its documented arithmetic (int8 weights and uint8 activations per group of 32),
/// against the exact Float64 product within the rounding that arithmetic allows, and against the portable scalar
/// version of the same functions. The kernel tests run only where the CPU has AVX512-VNNI.
@Suite struct MatrixKernelInt8Tests {
    typealias Case = MatrixKernelBF16Tests.Case

    /// Around the micro-tile (6 rows, 32 columns), depths below, at and past a group (32) and a depth block (24
    /// groups = 768; 1,537 is 49 groups: three blocks, the last one short), and the encoder's own shapes.
    static let cases: [Case] = [
        Case(m: 1, n: 1, k: 1, pad: 0),
        Case(m: 5, n: 7, k: 5, pad: 3),
        Case(m: 6, n: 32, k: 32, pad: 0),
        Case(m: 7, n: 33, k: 33, pad: 1),
        Case(m: 6, n: 32, k: 64, pad: 0),
        Case(m: 13, n: 31, k: 128, pad: 0),
        Case(m: 25, n: 65, k: 193, pad: 2),
        Case(m: 11, n: 17, k: 832, pad: 5),
        Case(m: 131, n: 384, k: 384, pad: 0),
        Case(m: 29, n: 1536, k: 384, pad: 0),
        Case(m: 23, n: 384, k: 1536, pad: 0),
        Case(m: 5, n: 40, k: 1537, pad: 7),
    ]

    static let group = Int(CONVERGE_INT8_GROUP)

    /// `PackedMatrix(w, format: .int8).multiply(a, into: c)`.
    static func run(_ t: Case, a: [Float], w: [Float], c: [Float], threaded: Bool) -> [Float] {
        MatrixKernelBF16Tests.run(t, a: a, w: w, c: c, threaded: threaded, format: .int8)
    }

    /// The documented arithmetic in Float64, written from its definition and not from the kernel: each group g of
    /// 32 inputs of row j of `w` as t * r (r = rint(w / t) in [-127, 127], t = max over the group of |w| / 127),
    /// each group of a row of `a` as s * (q - z) (s = (max - min) / 255, z = rint(-min / s), q = rint(a / s) + z in
    /// [0, 255]); then `c + sum` exactly. Returns the value and, per element, a bound on how far the kernel's Float32 sums may
    /// be from it.
    static func modelled(_ t: Case, a: [Float], w: [Float], c: [Float]) -> (value: [Double], slack: [Double]) {
        let lda = t.k + t.pad, ldc = t.n + t.pad
        // The rounded weight t * r of every input.
        var weight = [Double](repeating: 0, count: t.n * t.k)
        for j in 0..<t.n {
            for g0 in stride(from: 0, to: t.k, by: group) {
                let inputs = g0..<min(t.k, g0 + group)
                let top = inputs.map { abs(w[j * t.k + $0]) }.max()!
                let s = Float(max(top, 1e-12)) / 127
                for p in inputs {
                    weight[j * t.k + p] = Double(s) * Double(min(127, max(-127, (w[j * t.k + p] / s).rounded(.toNearestOrEven))))
                }
            }
        }
        var value = c.map(Double.init), slack = [Double](repeating: 0, count: c.count)
        for i in 0..<t.m {
            var q = [Double](repeating: 0, count: t.k)
            var groupScale: [Double] = [], groupZero: [Double] = []
            for g0 in stride(from: 0, to: t.k, by: group) {
                let part = (g0..<min(t.k, g0 + group)).map { a[i * lda + $0] }
                let low = part.min()!, high = part.max()!
                let s = max(high - low, 1e-12) / 255
                let z = (-low / s).rounded(.toNearestOrEven)
                groupScale.append(Double(s))
                groupZero.append(Double(z))
                for (offset, x) in part.enumerated() {
                    q[g0 + offset] = Double(min(255, max(0, (x / s).rounded(.toNearestOrEven) + z)))
                }
            }
            for j in 0..<t.n {
                var sum = 0.0, magnitude = 0.0
                for p in 0..<t.k {
                    let g = p / group
                    sum += groupScale[g] * (q[p] - groupZero[g]) * weight[j * t.k + p]
                    magnitude += abs(groupScale[g] * q[p] * weight[j * t.k + p])
                        + abs(groupScale[g] * groupZero[g] * weight[j * t.k + p])
                }
                value[i * ldc + j] += sum
                // Float32 scaling of each group's exact Int32 sum and of the zero-point term, their sum over the
                // groups, the column scale and the addition to C: a few roundings of 2^-24 each, on the magnitudes.
                slack[i * ldc + j] = magnitude * Double(t.k / group + 4) * 0x1p-23 + abs(value[i * ldc + j]) * 0x1p-22
            }
        }
        return (value, slack)
    }

    @Test(.enabled(if: EncoderPrecision.int8Supported, "this CPU has no AVX512-VNNI"), arguments: cases)
    func int8KernelComputesItsDocumentedArithmetic(_ t: Case) {
        let (a, w, c) = MatrixKernelBF16Tests.operands(t, exact: false)
        let (expected, slack) = Self.modelled(t, a: a, w: w, c: c)
        let got = Self.run(t, a: a, w: w, c: c, threaded: false)
        let beyond = got.indices.filter { abs(Double(got[$0]) - expected[$0]) > slack[$0] }
        let first = beyond.first.map { "\($0): \(got[$0]) vs \(expected[$0])" } ?? "-"
        #expect(beyond.isEmpty, "\(t.testDescription): \(beyond.count) elements beyond Float32 rounding of the model, first \(first)")
    }

    /// Against the exact product: rounding `a` to s (q - z) moves each input by at most s / 2 and `w` to t r by at
    /// most t / 2 (both scales of the input's group), so each product moves by at most |a| t / 2 + |w| s / 2 + s t / 4,
    /// plus the Float32 sums.
    @Test(.enabled(if: EncoderPrecision.int8Supported, "this CPU has no AVX512-VNNI"), arguments: cases)
    func int8KernelIsWithinInt8RoundingOfAFloat64TripleLoop(_ t: Case) {
        let (a, w, c) = MatrixKernelBF16Tests.operands(t, exact: false)
        let (expected, magnitude) = MatrixKernelBF16Tests.reference(t, a: a, w: w, c: c)
        let got = Self.run(t, a: a, w: w, c: c, threaded: false)
        let lda = t.k + t.pad, ldc = t.n + t.pad
        var failures = 0
        for i in 0..<t.m {
            let steps = stride(from: 0, to: t.k, by: Self.group).map { g0 -> Double in
                let part = (g0..<min(t.k, g0 + Self.group)).map { a[i * lda + $0] }
                return Double(part.max()! - part.min()!) / 255
            }
            for j in 0..<t.n {
                var bound = 0.0
                for g0 in stride(from: 0, to: t.k, by: Self.group) {
                    let inputs = g0..<min(t.k, g0 + Self.group)
                    let top = Double(inputs.map { abs(w[j * t.k + $0]) }.max()!) / 127
                    let s = steps[g0 / Self.group]
                    for p in inputs {
                        bound += abs(Double(a[i * lda + p])) * top / 2 + abs(Double(w[j * t.k + p])) * s / 2 + s * top / 4
                    }
                }
                bound = bound * 1.001 + magnitude[i * ldc + j] * Double(t.k + 8) * 0x1p-24 + abs(expected[i * ldc + j]) * 0x1p-22
                if abs(Double(got[i * ldc + j]) - expected[i * ldc + j]) > bound { failures += 1 }
            }
        }
        #expect(failures == 0, "\(t.testDescription): \(failures) elements beyond int8 rounding")
        // Padding columns of C (beyond n) are left alone.
        for i in 0..<t.m {
            for j in t.n..<ldc { #expect(got[i * ldc + j] == c[i * ldc + j]) }
        }
    }

    /// The vector functions against the portable scalar ones: the same weight and activation bytes (GELU first or
    /// not) and the same products up to the order of Float32 sums; with a bias, C is set, not added to.
    @Test(.enabled(if: EncoderPrecision.int8Supported, "this CPU has no AVX512-VNNI"), arguments: cases)
    func vectorAndScalarVersionsAgree(_ t: Case) {
        let (a, w, _) = MatrixKernelBF16Tests.operands(t, exact: false)
        let bias = (0..<t.n).map { Float($0 % 7) - 3 }
        let lda = t.k + t.pad
        let words = converge_int8_workspace_words(t.m, t.k)
        let packed = UnsafeMutablePointer<UInt32>.allocate(capacity: converge_int8_packed_weight_words(t.n, t.k))
        defer { packed.deallocate() }
        w.withUnsafeBufferPointer { converge_int8_pack_weights($0.baseAddress!, t.n, t.k, t.k, packed) }
        var scalarWeights = [UInt32](repeating: 5, count: converge_int8_packed_weight_words(t.n, t.k))
        w.withUnsafeBufferPointer { converge_int8_pack_weights_scalar($0.baseAddress!, t.n, t.k, t.k, &scalarWeights) }
        #expect(Array(UnsafeBufferPointer(start: packed, count: scalarWeights.count)) == scalarWeights,
                "\(t.testDescription): packed weights differ")
        for gelu in [Int32(0), 1] {
            var vector = [UInt32](repeating: 7, count: words), scalar = [UInt32](repeating: 9, count: words)
            a.withUnsafeBufferPointer { ap in
                converge_int8_pack_activations(ap.baseAddress!, lda, t.m, t.k, gelu, &vector)
                converge_int8_pack_activations_scalar(ap.baseAddress!, lda, t.m, t.k, gelu, &scalar)
            }
            if gelu == 0 {
                #expect(vector == scalar, "\(t.testDescription): activation words differ")
            } else {
                // The vector GELU rounds differently from the scalar one: a byte may move by one step.
                let rows = (t.m + Int(CONVERGE_INT8_MR) - 1) / Int(CONVERGE_INT8_MR) * Int(CONVERGE_INT8_MR)
                let quads = rows * ((t.k + Self.group - 1) / Self.group) * Self.group / 4
                var worst = 0
                for index in 0..<quads {
                    for byte in 0..<4 {
                        let x = Int((vector[index] >> (8 * byte)) & 0xFF), y = Int((scalar[index] >> (8 * byte)) & 0xFF)
                        worst = max(worst, abs(x - y))
                    }
                }
                #expect(worst <= 1, "\(t.testDescription): GELU-first bytes differ by \(worst)")
            }
            let ldc = t.n + t.pad
            var cv = [Float](repeating: .nan, count: t.m * ldc), cs = cv
            bias.withUnsafeBufferPointer { bp in
                converge_int8_gemm_packed(vector, t.m, packed, t.n, t.k, &cv, ldc, bp.baseAddress!)
                converge_int8_gemm_packed_scalar(vector, t.m, packed, t.n, t.k, &cs, ldc, bp.baseAddress!)
            }
            var worst: Float = 0
            for i in 0..<t.m {
                for j in 0..<t.n {
                    let (x, y) = (cv[i * ldc + j], cs[i * ldc + j])
                    worst = max(worst, abs(x - y) / max(1, abs(y)))
                }
            }
            #expect(worst < 1e-4, "\(t.testDescription): vector and scalar products differ by \(worst) (relative)")
        }
    }

    /// Split over the cores or not, every element is summed in the same order: the same bits.
    @Test(.enabled(if: EncoderPrecision.int8Supported, "this CPU has no AVX512-VNNI"))
    func threadsDoNotChangeTheResult() {
        MatrixKernelBF16Tests.checkThreads(format: .int8)
    }

    /// Three matrices of one depth on one conversion of the activations give the bits of three separate products,
    /// split over the cores or not (a depth of 200: six whole groups and a part).
    @Test(.enabled(if: EncoderPrecision.int8Supported, "this CPU has no AVX512-VNNI"))
    func sharedConversionEqualsSeparateProducts() {
        MatrixKernelBF16Tests.checkSharedConversion(format: .int8, depth: 200)
    }
}
