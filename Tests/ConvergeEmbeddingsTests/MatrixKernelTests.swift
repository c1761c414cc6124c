@testable import ConvergeEmbeddings
import Foundation
import Testing

/// The matrix kernels: the native Swift kernel against a plain Float64 triple loop on awkward shapes and
/// strides, a CBLAS opened at run time against the native kernel, and how `CONVERGE_BLAS` chooses between them.
@Suite struct MatrixKernelTests {
    /// `C = alpha * A * op(B) + beta * C` in Float64, row-major, as `MatrixKernel.sgemm` documents it.
    static func reference(transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float, a: [Float], lda: Int, b: [Float],
                          ldb: Int, beta: Float, c: [Float], ldc: Int) -> [Float] {
        var out = c
        for i in 0..<m {
            for j in 0..<n {
                var sum = 0.0
                for p in 0..<k { sum += Double(a[i * lda + p]) * Double(transposeB ? b[j * ldb + p] : b[p * ldb + j]) }
                out[i * ldc + j] = Float(Double(alpha) * sum + (beta == 0 ? 0 : Double(beta) * Double(c[i * ldc + j])))
            }
        }
        return out
    }

    struct Case: CustomTestStringConvertible, Sendable {
        var m: Int, n: Int, k: Int, transposeB: Bool, alpha: Float, beta: Float, pad: Int
        var testDescription: String { "\(m)x\(n)x\(k) transB=\(transposeB) alpha=\(alpha) beta=\(beta) pad=\(pad)" }
    }

    /// Shapes around the kernel's blocks (micro-tile 4 x 8, row block 64, depth block 256), degenerate ones, and
    /// the encoder's own (attention over 37 tokens, a 384-wide layer over 131 rows).
    static let cases: [Case] = [
        Case(m: 1, n: 1, k: 1, transposeB: false, alpha: 1, beta: 0, pad: 0),
        Case(m: 3, n: 7, k: 5, transposeB: true, alpha: 0.5, beta: 0, pad: 3),
        Case(m: 4, n: 8, k: 9, transposeB: false, alpha: 1, beta: 1, pad: 0),
        Case(m: 5, n: 9, k: 257, transposeB: true, alpha: 1, beta: 1, pad: 2),
        Case(m: 67, n: 33, k: 300, transposeB: false, alpha: -2, beta: 0.25, pad: 1),
        Case(m: 130, n: 65, k: 513, transposeB: true, alpha: 1, beta: 0, pad: 0),
        Case(m: 37, n: 37, k: 32, transposeB: true, alpha: 0.17677669, beta: 0, pad: 1115),
        Case(m: 37, n: 32, k: 37, transposeB: false, alpha: 1, beta: 0, pad: 1115),
        Case(m: 2 * 64 + 3, n: 200, k: 384, transposeB: true, alpha: 1, beta: 1, pad: 0),
        Case(m: 9, n: 0, k: 4, transposeB: false, alpha: 1, beta: 0, pad: 0),
        Case(m: 6, n: 5, k: 0, transposeB: true, alpha: 1, beta: 0.5, pad: 0),
    ]

    /// Runs `kernel` on `testCase` with seeded values and returns (kernel result, Float64 reference).
    static func run(_ kernel: MatrixKernel, _ t: Case) -> ([Float], [Float]) {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15 &+ UInt64(t.m * 1_000_003 + t.n * 1009 + t.k)
        func next() -> Float {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(Int64(bitPattern: state >> 11) % 2001 - 1000) / 1000
        }
        let lda = t.k + t.pad, ldb = (t.transposeB ? t.k : t.n) + t.pad, ldc = t.n + t.pad
        let a = (0..<(max(t.m, 1) * lda)).map { _ in next() }
        let b = (0..<(max(t.transposeB ? t.n : t.k, 1) * max(ldb, 1))).map { _ in next() }
        var c = (0..<(max(t.m, 1) * max(ldc, 1))).map { _ in next() }
        let expected = reference(transposeB: t.transposeB, m: t.m, n: t.n, k: t.k, alpha: t.alpha, a: a, lda: lda, b: b,
                                 ldb: ldb, beta: t.beta, c: c, ldc: ldc)
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                    kernel.sgemm(transposeB: t.transposeB, m: t.m, n: t.n, k: t.k, alpha: t.alpha, a: ap.baseAddress!,
                                 lda: max(lda, 1), b: bp.baseAddress!, ldb: max(ldb, 1), beta: t.beta,
                                 c: cp.baseAddress!, ldc: max(ldc, 1))
                }
            }
        }
        return (c, expected)
    }

    /// Largest |x - y| over `scale` (the inner dimension bounds the rounding error of a sum of products).
    static func worst(_ x: [Float], _ y: [Float], k: Int) -> Float {
        zip(x, y).map { abs($0 - $1) }.max().map { $0 / Float(max(k, 1)).squareRoot() } ?? 0
    }

    @Test(arguments: cases)
    func nativeKernelEqualsAFloat64TripleLoop(_ t: Case) {
        let (got, expected) = Self.run(.native(), t)
        // Padding columns of C (beyond n in each row) are left alone; so are they in the reference.
        #expect(Self.worst(got, expected, k: t.k) < 1e-5, "\(t.testDescription)")
    }

    @Test(arguments: cases)
    func cblasOpenedAtRunTimeEqualsTheNativeKernel(_ t: Case) throws {
        let kernel = MatrixKernel.load(environment: [:])
        // On CI scripts/test installs OpenBLAS's runtime library: the CBLAS path must be taken there.
        if ProcessInfo.processInfo.environment["CI"] == "true" {
            #expect(!kernel.backend.isNative, "\(kernel.backend)")
        }
        guard !kernel.backend.isNative else { return }
        let (blas, expected) = Self.run(kernel, t)
        let (native, _) = Self.run(.native(), t)
        #expect(Self.worst(blas, expected, k: t.k) < 1e-5, "\(t.testDescription)")
        #expect(Self.worst(blas, native, k: t.k) < 1e-5, "\(t.testDescription)")
    }

    @Test func theEnvironmentChoosesTheBackend() {
        #expect(MatrixKernel.load(environment: ["CONVERGE_BLAS": "none"]).backend
                == .native(reason: "CONVERGE_BLAS=none"))
        #expect(MatrixKernel.load(environment: ["CONVERGE_BLAS": "native"]).backend.isNative)
        let missing = MatrixKernel.load(environment: ["CONVERGE_BLAS": "/nonexistent/libcblas.so"]).backend
        #expect(missing.isNative)
        #expect(missing.description.hasPrefix("native Swift kernel (CONVERGE_BLAS=/nonexistent/libcblas.so: "),
                "\(missing)")
        // A library without cblas_sgemm (the C library itself) is refused with that reason.
        #if os(Linux)
        let noSymbol = MatrixKernel.load(environment: ["CONVERGE_BLAS": "libc.so.6"]).backend
        #expect(noSymbol == .native(reason: "CONVERGE_BLAS=libc.so.6: libc.so.6 has no cblas_sgemm"))
        #endif
        let auto = MatrixKernel.load(environment: [:]).backend
        if case let .cblas(library) = auto {
            #expect(MatrixKernel.candidateLibraries.contains(library))
            #expect(MatrixKernel.load(environment: ["CONVERGE_BLAS": library]).backend == auto)
        } else {
            #expect(auto.description.contains("no CBLAS library found"))
        }
    }

    /// The kernel an encoder uses by default: the one `CONVERGE_BLAS` chooses with Float32 products or the Swift
    /// steps; with bf16 and the vector steps (no Float32 product left) the native one, unless a library is named.
    @Test func anEncoderOpensACBLASOnlyForFloat32Products() {
        let float32 = EncoderPrecision(.float32, reason: "test")
        let bf16 = EncoderPrecision(.bf16, reason: "test")
        let auto = MatrixKernel.load(environment: [:]).backend
        #expect(MatrixKernel.forEncoder(precision: float32, environment: [:]).backend == auto)
        #expect(MatrixKernel.forEncoder(precision: bf16, vectorSteps: false, environment: [:]).backend == auto)
        let none = MatrixKernel.forEncoder(precision: float32, environment: ["CONVERGE_BLAS": "none"]).backend
        #expect(none == .native(reason: "CONVERGE_BLAS=none"))
        let bf16Default = MatrixKernel.forEncoder(precision: bf16, environment: [:]).backend
        if EncoderPrecision.bf16Supported {
            #expect(bf16Default == .native(reason: "bf16 weight products: no Float32 product to hand to a CBLAS"))
            #expect(MatrixKernel.forEncoder(precision: bf16, environment: ["CONVERGE_BLAS": "AUTO"]).backend == bf16Default)
            if case let .cblas(library) = auto {
                #expect(MatrixKernel.forEncoder(precision: bf16, environment: ["CONVERGE_BLAS": library]).backend == auto)
            }
        } else {
            // bf16 means float32 on this CPU: the CBLAS as for float32.
            #expect(bf16Default == auto)
        }
    }

    /// The encoder on the native kernel against the numpy Float64 reference, as `EncoderTests` checks the
    /// default kernel (a subset, the longest sentence included: the native kernel in a debug build is slow).
    @Test(.enabled(if: InstalledModel.available, InstalledModel.skipReason))
    func encoderOnTheNativeKernelEqualsTheReference() throws {
        let directory = try #require(InstalledModel.directory, "all-MiniLM-L6-v2 must be installed")
        let model = try SentenceEmbeddingModel(directory: directory, kernel: .native(reason: "test"))
        #expect(model.encoder.kernel.backend == .native(reason: "test"))
        let items = EncoderTests.fixture.items
        let longest = items.indices.max { items[$0].ids.count < items[$1].ids.count }!
        let chosen = [longest] + Array(items.indices.filter { $0 != longest }.prefix(8))
        let vectors = model.encode(chosen.map { items[$0].text })
        for (i, vector) in zip(chosen, vectors) {
            let cosine = zip(vector, EncoderTests.fixture.vector(items[i])).reduce(Float(0)) { $0 + $1.0 * $1.1 }
            #expect(cosine >= 0.999, "\(items[i].text.prefix(60))")
        }
    }
}
