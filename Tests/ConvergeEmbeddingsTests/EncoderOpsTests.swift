import CConvergeKernels
@testable import ConvergeEmbeddings
import Foundation
import Testing

/// CConvergeKernels' Float32 steps of the bf16 forward pass (`converge_gelu`, `converge_layer_norm`,
/// `converge_attention`, `converge_gelu_pack_activations`): the dispatching functions (AVX-512 where the CPU has
/// it, else the scalar versions) and the scalar versions, against Float64 on awkward shapes (every tail of a
/// 16-lane vector); the scalar versions bit for bit against the encoder's Swift loops where the same operations
/// in the same order are expected (x86-64, whose baseline has no fused multiply-add to contract into); and the
/// encoder running them (`BertEncoder.vectorSteps`) against the committed reference.
@Suite struct EncoderOpsTests {
    /// Seeded values in [-scale, scale].
    static func values(_ count: Int, seed: Int, scale: Float = 1) -> [Float] {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15 &+ UInt64(seed)
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(Int64(bitPattern: state >> 11) % 200_001 - 100_000) / 100_000 * scale
        }
    }

    static func gelu64(_ x: Float) -> Double { let v = Double(x); return 0.5 * v * (1 + erf(v / 2.0.squareRoot())) }

    static let counts = [0, 1, 2, 15, 16, 17, 31, 33, 100, 1537]

    /// Both versions within 2e-6 (absolute, plus 1e-6 relative) of Float64 GELU over [-8, 8]; the dispatching one
    /// gives each element the bits it gets in a longer call (the masked tail computes as the full vectors do).
    @Test(arguments: counts)
    func geluIsWithinItsApproximationOfFloat64(_ count: Int) {
        let input = Self.values(count, seed: count, scale: 8)
        var fast = input, scalar = input
        fast.withUnsafeMutableBufferPointer { converge_gelu($0.baseAddress, count) }
        scalar.withUnsafeMutableBufferPointer { converge_gelu_scalar($0.baseAddress, count) }
        for (index, x) in input.enumerated() {
            let expected = Self.gelu64(x), bound = 2e-6 + 1e-6 * abs(expected)
            #expect(abs(Double(fast[index]) - expected) <= bound, "gelu(\(x)) = \(fast[index]), expected \(expected)")
            #expect(abs(Double(scalar[index]) - expected) <= bound, "scalar gelu(\(x)) = \(scalar[index])")
        }
        var longer = input + Self.values(40, seed: 7, scale: 8)
        longer.withUnsafeMutableBufferPointer { converge_gelu($0.baseAddress, $0.count) }
        #expect(Array(longer.prefix(count)) == fast)
    }

    #if arch(x86_64)
    /// The scalar C GELU and LayerNorm are the Swift loops of the float32 path, operation for operation.
    @Test func scalarStepsEqualTheSwiftLoopsBitForBit() {
        let x = Self.values(1000, seed: 3, scale: 6)
        var swift = x, c = x
        swift.withUnsafeMutableBufferPointer { BertEncoder.gelu($0.baseAddress!, count: $0.count) }
        c.withUnsafeMutableBufferPointer { converge_gelu_scalar($0.baseAddress, $0.count) }
        #expect(swift == c)

        let rows = 5, width = 384
        let input = Self.values(rows * width, seed: 4, scale: 3), residual = Self.values(rows * width, seed: 5)
        let weight = Self.values(width, seed: 6), bias = Self.values(width, seed: 8)
        var viaSwift = input, viaC = input
        let w = FloatTensor(owning: weight, shape: [width]), b = FloatTensor(owning: bias, shape: [width])
        viaSwift.withUnsafeMutableBufferPointer { xp in
            for i in 0..<rows * width { xp[i] += residual[i] }
            BertEncoder.layerNorm(xp.baseAddress!, rows: rows, width: width, weight: w, bias: b, eps: 1e-12)
        }
        viaC.withUnsafeMutableBufferPointer { converge_layer_norm_scalar($0.baseAddress, residual, rows, width, weight, bias, 1e-12) }
        #expect(viaSwift == viaC)
    }
    #endif

    /// `x + residual` then LayerNorm, both versions, within 1e-5 of Float64 (inputs of mean 0.5, spread 3).
    @Test(arguments: [1, 3, 15, 16, 17, 33, 384, 389])
    func layerNormIsNearFloat64(_ width: Int) {
        let rows = 3
        let input = Self.values(rows * width, seed: width, scale: 3).map { $0 + 0.5 }
        let residual = Self.values(rows * width, seed: width + 1), weight = Self.values(width, seed: width + 2)
        let bias = Self.values(width, seed: width + 3)
        for withResidual in [false, true] {
            var expected = [Double](repeating: 0, count: rows * width)
            for r in 0..<rows {
                let row = (0..<width).map { Double(input[r * width + $0]) + (withResidual ? Double(residual[r * width + $0]) : 0) }
                let mean = row.reduce(0, +) / Double(width)
                let variance = row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(width)
                for k in 0..<width {
                    expected[r * width + k] = (row[k] - mean) / (variance + 1e-5).squareRoot() * Double(weight[k]) + Double(bias[k])
                }
            }
            for scalar in [false, true] {
                var x = input
                x.withUnsafeMutableBufferPointer { xp in
                    residual.withUnsafeBufferPointer { rp in
                        let add = withResidual ? rp.baseAddress : nil
                        if scalar {
                            converge_layer_norm_scalar(xp.baseAddress, add, rows, width, weight, bias, 1e-5)
                        } else {
                            converge_layer_norm(xp.baseAddress, add, rows, width, weight, bias, 1e-5)
                        }
                    }
                }
                let worst = zip(x, expected).map { abs(Double($0) - $1) }.max() ?? 0
                #expect(worst <= 1e-5, "width \(width), residual \(withResidual), scalar \(scalar): \(worst)")
            }
        }
    }

    struct AttentionCase: CustomTestStringConvertible, Sendable {
        var tokens: Int, heads: Int, headSize: Int
        var testDescription: String { "\(tokens) tokens, \(heads) x \(headSize)" }
    }

    /// Around 16 keys a vector and 16 dimensions a vector, odd head sizes, and the encoder's (12 heads of 32).
    static let attentionCases = [
        AttentionCase(tokens: 1, heads: 2, headSize: 5), AttentionCase(tokens: 2, heads: 1, headSize: 1),
        AttentionCase(tokens: 15, heads: 2, headSize: 16), AttentionCase(tokens: 16, heads: 3, headSize: 17),
        AttentionCase(tokens: 17, heads: 2, headSize: 33), AttentionCase(tokens: 33, heads: 12, headSize: 32),
        AttentionCase(tokens: 100, heads: 2, headSize: 64), AttentionCase(tokens: 256, heads: 2, headSize: 32),
    ]

    /// Scores, softmax and weighted sum of the values within one sequence (rows of query | key | value, padded),
    /// both versions within 1e-5 of Float64; context columns outside the heads are left alone.
    @Test(arguments: attentionCases)
    func attentionIsNearFloat64(_ t: AttentionCase) {
        let hidden = t.heads * t.headSize, ld = 3 * hidden + 3, ldc = hidden + 2
        let qkv = Self.values(t.tokens * ld, seed: t.tokens * 31 + t.headSize, scale: 2)
        let scale = 1 / Float(t.headSize).squareRoot()
        var expected = [Double](repeating: 0, count: t.tokens * ldc)
        for head in 0..<t.heads {
            let q = head * t.headSize, k = q + hidden, v = q + 2 * hidden
            for i in 0..<t.tokens {
                var scores = (0..<t.tokens).map { j in
                    (0..<t.headSize).reduce(0.0) { $0 + Double(qkv[i * ld + q + $1]) * Double(qkv[j * ld + k + $1]) } * Double(scale)
                }
                let top = scores.max()!
                scores = scores.map { exp($0 - top) }
                let sum = scores.reduce(0, +)
                for d in 0..<t.headSize {
                    expected[i * ldc + q + d] = (0..<t.tokens).reduce(0.0) { $0 + scores[$1] * Double(qkv[$1 * ld + v + d]) } / sum
                }
            }
        }
        let scratch = [Float](repeating: .nan, count: converge_attention_scratch_floats(t.tokens, t.headSize))
        for scalar in [false, true] {
            var context = [Float](repeating: -7, count: t.tokens * ldc)
            var work = scratch
            context.withUnsafeMutableBufferPointer { cp in
                work.withUnsafeMutableBufferPointer { sp in
                    if scalar {
                        converge_attention_scalar(qkv, ld, t.tokens, t.heads, t.headSize, scale, cp.baseAddress, ldc, sp.baseAddress)
                    } else {
                        converge_attention(qkv, ld, t.tokens, t.heads, t.headSize, scale, cp.baseAddress, ldc, sp.baseAddress)
                    }
                }
            }
            var worst = 0.0
            for i in 0..<t.tokens {
                for c in 0..<ldc {
                    if c < hidden {
                        worst = max(worst, abs(Double(context[i * ldc + c]) - expected[i * ldc + c]))
                    } else {
                        #expect(context[i * ldc + c] == -7, "column \(c) written")
                    }
                }
            }
            #expect(worst <= 1e-5, "\(t.testDescription), scalar \(scalar): \(worst)")
        }
    }

    /// BF16 of a float, round to nearest even (finite inputs).
    static func bf16(_ x: Float) -> UInt32 {
        let u = x.bitPattern
        return (u &+ 0x7FFF &+ ((u >> 16) & 1)) >> 16
    }

    /// GELU fused into the BF16 conversion: the scalar version gives the words of the scalar GELU rounded to BF16
    /// (pairs adjacent in depth, an odd depth's last high half zero, rows up to a multiple of 12 zero); where the CPU
    /// has AVX512-BF16, the dispatching version gives the words of `converge_gelu` then the conversion.
    @Test(arguments: [(1, 1), (5, 7), (12, 32), (13, 77), (25, 1536)])
    func geluPackEqualsGeluThenConversion(_ shape: (Int, Int)) {
        let (m, k) = shape, lda = k + 3
        let a = Self.values(m * lda, seed: m * 7 + k, scale: 5)
        let words = converge_bf16_workspace_words(m, k), pairs = (k + 1) / 2
        var packed = [UInt32](repeating: 0xDEAD_BEEF, count: words)
        packed.withUnsafeMutableBufferPointer { converge_gelu_pack_activations_scalar(a, lda, m, k, $0.baseAddress) }
        var gelu = a
        gelu.withUnsafeMutableBufferPointer { converge_gelu_scalar($0.baseAddress, $0.count) }
        var expected = [UInt32](repeating: 0, count: words)
        for i in 0..<m {
            for p in 0..<pairs {
                let lo = Self.bf16(gelu[i * lda + 2 * p]), hi = 2 * p + 1 < k ? Self.bf16(gelu[i * lda + 2 * p + 1]) : 0
                expected[i * pairs + p] = lo | (hi << 16)
            }
        }
        #expect(packed == expected)
        if EncoderPrecision.bf16Supported {
            var fused = [UInt32](repeating: 0xDEAD_BEEF, count: words), separate = fused
            fused.withUnsafeMutableBufferPointer { converge_gelu_pack_activations(a, lda, m, k, $0.baseAddress) }
            var g = a
            g.withUnsafeMutableBufferPointer { converge_gelu($0.baseAddress, $0.count) }
            separate.withUnsafeMutableBufferPointer { converge_bf16_pack_activations(g, lda, m, k, $0.baseAddress) }
            #expect(fused == separate)
        }
    }
}

/// The encoder with the C steps (`vectorSteps`), on the installed model and the committed reference.
@Suite(.serialized, .enabled(if: InstalledModel.available, InstalledModel.skipReason))
struct EncoderVectorStepsTests {
    static func encoder(precision: EncoderPrecision, vectorSteps: Bool?, groupTokens: Int = BertEncoder.defaultGroupTokens)
        throws -> BertEncoder
    {
        let directory = try #require(InstalledModel.directory, "all-MiniLM-L6-v2 must be installed")
        let url = URL(fileURLWithPath: directory)
        return try BertEncoder(config: try BertConfig(path: url.appendingPathComponent("config.json").path),
                               weights: try SafeTensorsFile(path: url.appendingPathComponent("model.safetensors").path),
                               precision: precision, adapter: nil, vectorSteps: vectorSteps, groupTokens: groupTokens)
    }

    static func leastCosine(_ a: [[Float]], _ b: [[Float]]) -> Float {
        zip(a, b).map { x, y in zip(x, y).reduce(Float(0)) { $0 + $1.0 * $1.1 } }.min() ?? 0
    }

    /// The C steps are on with bf16 only (the float32 path keeps its Swift loops and its bits); on Float32 products
    /// (every CPU: AVX-512 or the scalar versions) they give the reference's vectors at cosine >= 0.999 and the
    /// float32 path's at >= 0.99999, in groups of 16 tokens as in groups of 256.
    @Test func vectorStepsOnFloat32ProductsEqualTheReference() throws {
        #expect(try Self.encoder(precision: .float32, vectorSteps: nil).vectorSteps == false)
        let fixture = EncoderTests.fixture
        let ids = fixture.items.map(\.ids)
        let plain = try Self.encoder(precision: .float32, vectorSteps: false).embed(ids)
        let steps = try Self.encoder(precision: .float32, vectorSteps: true).embed(ids)
        let small = try Self.encoder(precision: .float32, vectorSteps: true, groupTokens: 16).embed(ids)
        let reference = fixture.items.map { fixture.vector($0) }
        print("vector steps on float32 products: least cosine to the reference \(Self.leastCosine(steps, reference)), "
              + "to the float32 path \(Self.leastCosine(steps, plain)), groups of 16 against 256 \(Self.leastCosine(small, steps))")
        #expect(Self.leastCosine(steps, reference) >= 0.999)
        #expect(Self.leastCosine(steps, plain) >= 0.99999)
        #expect(Self.leastCosine(small, steps) >= 0.99999)
    }

    /// With bf16 (where the CPU has AVX512-BF16) the steps are on, and every step treats each row or sequence on its
    /// own: groups of 16 tokens and of 256 give the same bits, and so does a sequence encoded alone.
    @Test(.enabled(if: EncoderPrecision.bf16Supported, "this CPU has no AVX512-BF16"))
    func bf16VectorsDoNotDependOnTheGrouping() throws {
        let ids = EncoderTests.fixture.items.map(\.ids)
        let encoder = try Self.encoder(precision: .bf16, vectorSteps: nil)
        #expect(encoder.vectorSteps)
        let grouped = encoder.embed(ids)
        #expect(try Self.encoder(precision: .bf16, vectorSteps: nil, groupTokens: 16).embed(ids) == grouped)
        #expect(encoder.embed([ids[5]]) == [grouped[5]])
    }

    /// The same with int8 (where the CPU has AVX512-VNNI): activations are rounded per row, so a row's bits do not
    /// depend on the other rows of its group, nor on the split between threads.
    @Test(.enabled(if: EncoderPrecision.int8Supported, "this CPU has no AVX512-VNNI"))
    func int8VectorsDoNotDependOnTheGrouping() throws {
        let ids = EncoderTests.fixture.items.map(\.ids)
        let encoder = try Self.encoder(precision: .int8, vectorSteps: nil)
        #expect(encoder.vectorSteps && encoder.precision.kind == .int8)
        let grouped = encoder.embed(ids)
        #expect(try Self.encoder(precision: .int8, vectorSteps: nil, groupTokens: 16).embed(ids) == grouped)
        #expect(encoder.embed([ids[5]]) == [grouped[5]])
    }
}
