import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Row-major single-precision matrix products for the encoder, through a CBLAS found at run time or, when
/// there is none, a portable native Swift kernel.
///
/// Nothing is linked at build time (no `cblas.h`, no `-lopenblas`): `load(environment:)` opens a CBLAS with
/// `dlopen` (OpenBLAS, then any library exporting `cblas_sgemm`; Accelerate on macOS) and looks up
/// `cblas_sgemm`. `CONVERGE_BLAS` chooses: unset (or `auto`) tries `candidateLibraries` in order;
/// `none` (or `native`) uses the native kernel without looking for a library; anything else is a library
/// path or soname to open instead of the candidates. When nothing loads, the native kernel is used and
/// `backend` says why.
///
/// Both kernels compute the same products; results differ only by float rounding (summation order).
public struct MatrixKernel: Sendable {
    /// Which implementation `sgemm` runs.
    public enum Backend: Sendable, Equatable, CustomStringConvertible {
        /// `cblas_sgemm` from `library` (the name or path it was opened by).
        case cblas(library: String)
        /// The native Swift kernel; `reason` says why (forced by `CONVERGE_BLAS=none`, or no CBLAS found).
        case native(reason: String)

        public var isNative: Bool { if case .native = self { return true } else { return false } }

        /// One line: `cblas_sgemm from libopenblas.so.0` or `native Swift kernel (CONVERGE_BLAS=none)`.
        public var description: String {
            switch self {
            case let .cblas(library): return "cblas_sgemm from \(library)"
            case let .native(reason): return "native Swift kernel (\(reason))"
            }
        }
    }

    /// `cblas_sgemm(order, transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc)` with 32-bit integers
    /// (the LP64 CBLAS ABI: OpenBLAS, netlib, ATLAS, Accelerate).
    typealias CBLASSgemm = @convention(c) (Int32, Int32, Int32, Int32, Int32, Int32, Float, UnsafePointer<Float>?,
                                           Int32, UnsafePointer<Float>?, Int32, Float, UnsafeMutablePointer<Float>?,
                                           Int32) -> Void

    /// `openblas_set_num_threads(n)`: how many threads OpenBLAS runs each product on (process-wide).
    typealias SetThreads = @convention(c) (Int32) -> Void

    /// The looked-up C functions; immutable after load, and CBLAS's sgemm is reentrant.
    struct Function: @unchecked Sendable {
        let sgemm: CBLASSgemm
        /// OpenBLAS's thread-count setter, when the library has one.
        let setThreads: SetThreads?
        /// OpenBLAS's thread count when it was opened (`openblas_get_num_threads()`; its default is one per
        /// core, or `OPENBLAS_NUM_THREADS`).
        let initialThreads: Int32?
    }

    /// The environment variable that chooses the backend.
    public static let environmentVariable = "CONVERGE_BLAS"

    /// Libraries tried in order when `CONVERGE_BLAS` is unset: OpenBLAS's runtime library (Debian's
    /// `libopenblas0`, no `-dev` package needed), then the generic CBLAS/BLAS sonames that OpenBLAS, netlib,
    /// ATLAS or BLIS install; Accelerate on macOS. 64-bit-integer builds (`libopenblas64`) are not tried.
    public static let candidateLibraries: [String] = {
        #if canImport(Darwin)
        return ["/System/Library/Frameworks/Accelerate.framework/Accelerate", "libopenblas.dylib"]
        #else
        return ["libopenblas.so.0", "libopenblas.so", "libcblas.so.3", "libblas.so.3", "libblis.so.4"]
        #endif
    }()

    public let backend: Backend
    let function: Function?

    /// The native kernel, with `reason` as its description.
    public static func native(reason: String = "requested") -> MatrixKernel {
        MatrixKernel(backend: .native(reason: reason), function: nil)
    }

    /// The kernel `CONVERGE_BLAS` in `environment` asks for (see the type's documentation). Never fails: a
    /// library that cannot be opened or lacks `cblas_sgemm` means the native kernel, with the reason in
    /// `backend`.
    public static func load(environment: [String: String] = ProcessInfo.processInfo.environment) -> MatrixKernel {
        let choice = environment[environmentVariable]?.trimmingCharacters(in: .whitespaces) ?? ""
        switch choice.lowercased() {
        case "none", "native":
            return .native(reason: "\(environmentVariable)=\(choice)")
        case "", "auto":
            for name in candidateLibraries {
                if case let .success(kernel) = open(name) { return kernel }
            }
            return .native(reason: "no CBLAS library found: tried " + candidateLibraries.joined(separator: ", "))
        default:
            switch open(choice) {
            case let .success(kernel): return kernel
            case let .failure(failure): return .native(reason: "\(environmentVariable)=\(choice): \(failure.reason)")
            }
        }
    }

    /// The kernel of this process, chosen once from its environment.
    public static let shared = load()

    /// The kernel an encoder with `precision` (and `vectorSteps`, nil: that precision's default) uses when
    /// none is given: `shared`, except that bf16 (or int8) with the vector steps computes no Float32 product a CBLAS
    /// could take (the weight products are BF16, attention runs in `converge_attention`; an adapter is merged
    /// without the kernel), so there the native kernel stands in, unused, and no library is opened, unless
    /// `CONVERGE_BLAS` names one. Opening OpenBLAS cost a cold `converge analyze` about 20 ms of wall time and
    /// 70 ms of CPU (dlopen, relocation, its thread pool), measured with `perf stat` on a Zen 5.
    public static func forEncoder(precision: EncoderPrecision, vectorSteps: Bool? = nil,
                                  environment: [String: String] = ProcessInfo.processInfo.environment) -> MatrixKernel {
        let reduced = precision.available().isReduced
        let choice = environment[environmentVariable]?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        guard reduced, vectorSteps ?? true, choice.isEmpty || choice == "auto" else {
            return environment == ProcessInfo.processInfo.environment ? shared : load(environment: environment)
        }
        return .native(reason: "\(precision.available().kind) weight products: no Float32 product to hand to a CBLAS")
    }

    struct LoadFailure: Error { var reason: String }

    /// Opens `library` and looks up `cblas_sgemm`; the failure says which step failed.
    static func open(_ library: String) -> Swift.Result<MatrixKernel, LoadFailure> {
        #if canImport(Glibc) || canImport(Musl) || canImport(Darwin)
        guard let handle = dlopen(library, RTLD_NOW | RTLD_LOCAL) else {
            let message = dlerror().map { String(cString: $0) } ?? "cannot be opened"
            return .failure(LoadFailure(reason: message))
        }
        guard let symbol = dlsym(handle, "cblas_sgemm") else {
            dlclose(handle)
            return .failure(LoadFailure(reason: "\(library) has no cblas_sgemm"))
        }
        // The handle stays open for the life of the process: the function pointers must stay valid.
        let sgemm = unsafeBitCast(symbol, to: CBLASSgemm.self)
        typealias GetThreads = @convention(c) () -> Int32
        let setThreads = dlsym(handle, "openblas_set_num_threads").map { unsafeBitCast($0, to: SetThreads.self) }
        let initialThreads = dlsym(handle, "openblas_get_num_threads").map { unsafeBitCast($0, to: GetThreads.self)() }
        return .success(MatrixKernel(backend: .cblas(library: library),
                                     function: Function(sgemm: sgemm, setThreads: setThreads,
                                                        initialThreads: initialThreads)))
        #else
        return .failure(LoadFailure(reason: "dlopen is not available on this platform"))
        #endif
    }

    /// `C = alpha * A * op(B) + beta * C`, all row-major: `A` is `m x k` (row stride `lda`), `op(B)` is
    /// `k x n` (`B` stored `k x n` with row stride `ldb`, or, with `transposeB`, stored `n x k` as PyTorch's
    /// `Linear` weights are), `C` is `m x n` (row stride `ldc`). Requires `lda >= k`, `ldb >= n` (or `>= k`
    /// transposed), `ldc >= n`, and buffers that hold those shapes; `beta == 0` overwrites `C` without reading
    /// it. Dimensions must fit in 32 bits for the CBLAS path. `threaded: false` keeps the native kernel on the
    /// calling thread (for callers that run products on several threads themselves); a CBLAS runs on the
    /// threads it was set to (see `useOneLibraryThread()`).
    public func sgemm(transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                      a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                      beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, threaded: Bool = true) {
        guard m > 0, n > 0 else { return }
        if let function {
            // CblasRowMajor = 101, CblasNoTrans = 111, CblasTrans = 112 (cblas.h).
            function.sgemm(101, 111, transposeB ? 112 : 111, Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda),
                           b, Int32(ldb), beta, c, Int32(ldc))
        } else {
            NativeGEMM.sgemm(transposeB: transposeB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                             beta: beta, c: c, ldc: ldc, threaded: threaded)
        }
    }

    /// Asks the CBLAS to run each product on the calling thread only (`openblas_set_num_threads(1)`; it is
    /// process-wide and lasts until `useLibraryThreads()`), for callers that run products on one thread per core
    /// themselves: OpenBLAS's own threads would otherwise spin, waiting for work, while the caller's threads
    /// need the cores. Does nothing for the native kernel or a library without the setter.
    public func useOneLibraryThread() {
        function?.setThreads?(1)
    }

    /// Gives the CBLAS back the thread count it had when it was opened (undoes `useOneLibraryThread()`), for
    /// callers that run every product on the calling thread alone. Does nothing for the native kernel or a
    /// library without the setter.
    public func useLibraryThreads() {
        if let function, let set = function.setThreads, let initial = function.initialThreads { set(initial) }
    }
}

/// The portable kernel: blocked, packed, vectorised with `SIMD8<Float>`, and parallel over row blocks.
///
/// `op(B)` is packed, `depthBlock` rows at a time, into column panels of 8 (zero-padded on the right), so
/// that the micro-kernel reads 8 consecutive floats per step of the inner product; the micro-kernel keeps a
/// 4 x 8 tile of `C` in registers. Row blocks of `rowBlock` rows run on all cores (`concurrentPerform`) when
/// the product is large enough to pay for it. Each element of `C` is summed in the same order whatever the
/// thread count: results are deterministic.
///
/// A debug build (unoptimised, `DEBUG` defined) compiles a scalar micro-kernel instead: -Onone leaves SIMD
/// operations and range loops as generic calls (about 30 times slower than scalar code there), and a debug
/// `swift run converge analyze` must still finish. It sums in the same order, so it gives the same results.
enum NativeGEMM {
    static let panelWidth = 8
    static let microRows = 4
    static let rowBlock = 64
    static let depthBlock = 256
    /// Multiply-adds below which one thread does the whole product.
    static let parallelThreshold = 1 << 18

    static func sgemm(transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                      a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                      beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, threaded: Bool = true) {
        for i in 0..<m {
            let row = c + i * ldc
            if beta == 0 {
                row.update(repeating: 0, count: n)
            } else if beta != 1 {
                for j in 0..<n { row[j] *= beta }
            }
        }
        guard k > 0, alpha != 0 else { return }
        let panels = (n + panelWidth - 1) / panelWidth
        let depthMax = min(k, depthBlock)
        let packed = UnsafeMutablePointer<Float>.allocate(capacity: panels * depthMax * panelWidth)
        defer { packed.deallocate() }
        let blocks = (m + rowBlock - 1) / rowBlock
        var p0 = 0
        while p0 < k {
            let depth = min(depthMax, k - p0)
            pack(b, transposeB: transposeB, ldb: ldb, from: p0, depth: depth, n: n, into: packed)
            let operands = Operands(a: a + p0, packed: UnsafePointer(packed), c: c)
            let work: @Sendable (Int) -> Void = { block in
                let i0 = block * rowBlock, i1 = min(m, i0 + rowBlock)
                for panel in 0..<panels {
                    let j0 = panel * panelWidth
                    let bp = operands.packed + panel * depth * panelWidth
                    var i = i0
                    while i < i1 {
                        microKernel(a: operands.a + i * lda, lda: lda, rows: min(microRows, i1 - i), b: bp, depth: depth,
                                    c: operands.c + i * ldc + j0, ldc: ldc, width: min(panelWidth, n - j0), alpha: alpha)
                        i += microRows
                    }
                }
            }
            if threaded, blocks > 1, m * n * depth >= parallelThreshold {
                DispatchQueue.concurrentPerform(iterations: blocks, execute: work)
            } else {
                for block in 0..<blocks { work(block) }
            }
            p0 += depth
        }
    }

    /// The buffers of one depth block, shared by the row-block workers. @unchecked: the workers only read `a`
    /// and `packed`, and each writes its own rows of `c` (disjoint), while `sgemm` waits for them all.
    struct Operands: @unchecked Sendable {
        let a: UnsafePointer<Float>
        let packed: UnsafePointer<Float>
        let c: UnsafeMutablePointer<Float>
    }

    /// Packs rows `from ..< from + depth` of `op(B)` (`k x n`) into `n / 8` panels, each `depth x 8`
    /// row-major, the last one zero-padded.
    @inline(__always)
    static func pack(_ b: UnsafePointer<Float>, transposeB: Bool, ldb: Int, from p0: Int, depth: Int, n: Int,
                     into packed: UnsafeMutablePointer<Float>) {
        let panels = (n + panelWidth - 1) / panelWidth
        for panel in 0..<panels {
            let j0 = panel * panelWidth, width = min(panelWidth, n - j0)
            let dst = packed + panel * depth * panelWidth
            // `while` loops: an unoptimised (debug) build inlines them, not range iteration.
            var p = 0
            while p < depth {
                let out = dst + p * panelWidth
                var col = 0
                if transposeB {
                    var source = b + j0 * ldb + p0 + p
                    while col < width { out[col] = source.pointee; source += ldb; col += 1 }
                } else {
                    let source = b + (p0 + p) * ldb + j0
                    while col < width { out[col] = source[col]; col += 1 }
                }
                while col < panelWidth { out[col] = 0; col += 1 }
                p += 1
            }
        }
    }

    /// `C[rows x width] += alpha * A[rows x depth] * P[depth x 8]` for one packed panel `P`; `rows <= 4`,
    /// `width <= 8`. Rows past `rows` read row 0 again (valid memory) and are not stored.
    #if DEBUG
    /// The micro-kernel as an unoptimised (-Onone, debug) build runs it fast enough: only operations the
    /// compiler inlines even there (pointer subscripts, Float arithmetic, `while` loops); no SIMD types or
    /// ranges, which -Onone leaves as generic calls. Sums in the same order as the SIMD version: same results.
    static func microKernel(a: UnsafePointer<Float>, lda: Int, rows: Int, b: UnsafePointer<Float>, depth: Int,
                            c: UnsafeMutablePointer<Float>, ldc: Int, width: Int, alpha: Float) {
        var r = 0
        while r < rows {
            let ar = a + r * lda
            var s0: Float = 0, s1: Float = 0, s2: Float = 0, s3: Float = 0
            var s4: Float = 0, s5: Float = 0, s6: Float = 0, s7: Float = 0
            var p = 0
            var bp = b
            while p < depth {
                let x = ar[p]
                s0 += x * bp[0]; s1 += x * bp[1]; s2 += x * bp[2]; s3 += x * bp[3]
                s4 += x * bp[4]; s5 += x * bp[5]; s6 += x * bp[6]; s7 += x * bp[7]
                bp += 8
                p += 1
            }
            let dst = c + r * ldc
            if width > 0 { dst[0] += s0 * alpha }
            if width > 1 { dst[1] += s1 * alpha }
            if width > 2 { dst[2] += s2 * alpha }
            if width > 3 { dst[3] += s3 * alpha }
            if width > 4 { dst[4] += s4 * alpha }
            if width > 5 { dst[5] += s5 * alpha }
            if width > 6 { dst[6] += s6 * alpha }
            if width > 7 { dst[7] += s7 * alpha }
            r += 1
        }
    }
    #else
    @inline(__always)
    static func microKernel(a: UnsafePointer<Float>, lda: Int, rows: Int, b: UnsafePointer<Float>, depth: Int,
                            c: UnsafeMutablePointer<Float>, ldc: Int, width: Int, alpha: Float) {
        let a0 = a, a1 = rows > 1 ? a + lda : a, a2 = rows > 2 ? a + 2 * lda : a, a3 = rows > 3 ? a + 3 * lda : a
        var c0 = SIMD8<Float>(), c1 = SIMD8<Float>(), c2 = SIMD8<Float>(), c3 = SIMD8<Float>()
        let raw = UnsafeRawPointer(b)
        var p = 0
        while p < depth {
            let bv = raw.loadUnaligned(fromByteOffset: p * 32, as: SIMD8<Float>.self)
            c0 += SIMD8<Float>(repeating: a0[p]) * bv
            c1 += SIMD8<Float>(repeating: a1[p]) * bv
            c2 += SIMD8<Float>(repeating: a2[p]) * bv
            c3 += SIMD8<Float>(repeating: a3[p]) * bv
            p += 1
        }
        store(c0, into: c, width: width, alpha: alpha)
        if rows > 1 { store(c1, into: c + ldc, width: width, alpha: alpha) }
        if rows > 2 { store(c2, into: c + 2 * ldc, width: width, alpha: alpha) }
        if rows > 3 { store(c3, into: c + 3 * ldc, width: width, alpha: alpha) }
    }

    /// `dst[0 ..< width] += alpha * sum[0 ..< width]`.
    @inline(__always)
    static func store(_ sum: SIMD8<Float>, into dst: UnsafeMutablePointer<Float>, width: Int, alpha: Float) {
        let v = sum * alpha
        if width == panelWidth {
            let raw = UnsafeMutableRawPointer(dst)
            raw.storeBytes(of: raw.loadUnaligned(as: SIMD8<Float>.self) + v, as: SIMD8<Float>.self)
        } else {
            for col in 0..<width { dst[col] += v[col] }
        }
    }
    #endif
}
