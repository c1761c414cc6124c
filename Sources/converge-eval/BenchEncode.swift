import ArgumentParser
import CConvergeKernels
import ConvergeEmbeddings
import Foundation

/// `converge-eval bench encode`: native all-MiniLM-L6-v2 encoding speed at batch 64 on ArgKP dev arguments,
/// with everything it is compared with measured in the same run, one after the other:
///
/// - the cold model load (the first in the process: tokenizer.json, config, mapped weights), beside what the
///   loader did before it used the file in place (every F32 tensor copied into arrays, tokenizer.json read
///   by `JSONSerialization`), timed on the same files;
/// - the machine's single-precision matrix-multiply rate: `threads` products of 2048 x 2048 x 2048 at once on
///   the Float32 kernel `CONVERGE_BLAS` chooses, each on one thread (the encoder's own layout), best of 3
///   (GFLOP/s); the encoder's
///   achieved rate over its matrix products (`BertEncoder.productFLOPs`) is printed beside it, per second
///   of wall time and per CPU-second of this process (which other work on a shared machine does not inflate);
/// - the encoder with one sub-batch per core (the default) and with one thread whose products run on the
///   library's threads (as before sub-batches), with the kernel `CONVERGE_BLAS` chooses; when that is a
///   CBLAS, again with the native kernel (their ratio, and the least cosine between the two runs' vectors);
/// - where the CPU has AVX512-BF16, the encoder with Float32 and with BF16 weight products
///   (`CONVERGE_ENCODER_PRECISION`), the latter both with the Swift loops for the Float32 steps between the
///   products and with CConvergeKernels' vector steps (the default), same kernel and threads, alternating
///   twice: the bf16 model's load, each run's rate, the ratios of the best runs and the least cosines between
///   their vectors;
/// - the numpy reference (scripts/minilm-reference.py --bench) and onnxruntime (scripts/minilm-onnx.py
///   --bench: the same weights exported to ONNX, CPU execution provider, `threads` intra-op threads) on the
///   same sentences, each skipped with a line saying why when its Python packages are missing;
/// - peak RSS.
struct BenchEncode: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "encode",
                                                    abstract: "Sentence embedding throughput vs sgemm, numpy and onnxruntime.")

    @Option(help: "ArgKP folder (its arguments_dev.csv are the sentences).") var argkp = "../shared/corpus/argkp"
    @Option(help: "Sentences to encode.") var sentences = 932
    @Option(help: "Batch size.") var batch = 64
    @Option(help: "Encoder threads (default: one per active core).") var threads = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Reference script (empty skips it; a relative path is looked for in the current folder, then in the package).")
    var reference = "scripts/minilm-reference.py"
    @Option(help: "onnxruntime script (empty skips it; looked for as --reference is).")
    var onnx = "scripts/minilm-onnx.py"

    /// The package root, from this source file's place in it (Sources/converge-eval/BenchEncode.swift).
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    /// `reference` as found: as given when it exists, else (relative) under the package root. Throws
    /// `EvalError` naming both places when it is in neither.
    static func resolveReference(_ reference: String, option: String = "reference") throws -> String {
        if FileManager.default.fileExists(atPath: reference) { return reference }
        let inPackage = packageRoot + "/" + reference
        if !reference.hasPrefix("/"), FileManager.default.fileExists(atPath: inPackage) { return inPackage }
        throw EvalError("\(option) script \(reference) not found (looked in \(FileManager.default.currentDirectoryPath)"
                        + (reference.hasPrefix("/") ? "" : " and \(packageRoot)") + "); pass --\(option) PATH, or --\(option) '' to skip it")
    }

    func run() throws {
        guard batch >= 1 else { throw EvalError("--batch must be at least 1, not \(batch)") }
        guard sentences >= 1 else { throw EvalError("--sentences must be at least 1, not \(sentences)") }
        guard threads >= 1 else { throw EvalError("--threads must be at least 1, not \(threads)") }
        let script = reference.isEmpty ? "" : try Self.resolveReference(reference)
        let onnxScript = onnx.isEmpty ? "" : try Self.resolveReference(onnx, option: "onnx")
        let data = try KPAData(directory: argkp, split: "dev")
        let texts = Array(data.arguments.map(\.text).prefix(sentences))
        let (model, loadSeconds) = try Measure.time { try loadEncoder(batchSize: batch, threads: threads) }
        let flops = model.encoder.productFLOPs(lengths: texts.map { model.tokenIDs($0).count })
        let tokens = texts.reduce(0) { $0 + model.tokenIDs($1).count }
        print("bench encode: \(texts.count) ArgKP dev arguments (\(tokens) tokens, "
              + String(format: "%.1f GFLOP of products", flops / 1e9) + "), batch \(batch), model \(model.directory)")
        print("machine: \(ProcessInfo.processInfo.activeProcessorCount) cores; matrix products: \(model.encoder.kernel.backend); "
              + "encoder precision: \(model.encoder.precision)")
        let before = loadSeconds + (try Self.copyingLoadExtraSeconds(model.directory))
        print("load: " + Measure.ms(loadSeconds) + " (cold, weights mapped in place); as before (tensors copied, "
              + "tokenizer.json by JSONSerialization): " + Measure.ms(before) + String(format: " (%.1fx)", before / loadSeconds))
        // The Float32 rate of the kernel CONVERGE_BLAS chooses (a bf16 encoder itself opens no CBLAS).
        let (peak, peakPerCPU) = Self.sgemmRate(.shared, parts: threads)
        print(String(format: "sgemm (%@): %d x 2048^3 at once, %@: %.1f GFLOP/s, %.1f GFLOP per CPU-second (best of 3)",
                     MatrixKernel.shared.backend.description, threads,
                     threads > 1 ? "one thread each" : "on the library's threads", peak, peakPerCPU))

        if EncoderPrecision.bf16Supported {
            let (bf16Peak, bf16PerCPU) = Self.bf16Rate(parts: threads)
            print(String(format: "bf16 gemm (AVX512-BF16 kernel): %d x 2048^3 at once, one thread each: %.1f GFLOP/s, "
                         + "%.1f GFLOP per CPU-second (best of 3)", threads, bf16Peak, bf16PerCPU))
        }
        if EncoderPrecision.int8Supported {
            let (int8Peak, int8PerCPU) = Self.int8Rate(parts: threads)
            print(String(format: "int8 gemm (AVX512-VNNI kernel): %d x 2048^3 at once, one thread each: %.1f GOP/s, "
                         + "%.1f GOP per CPU-second (best of 3; activations converted in each product)",
                         threads, int8Peak, int8PerCPU))
        }

        var perCPU = 0.0  // sentences per CPU-second of the last `run`
        func run(_ model: SentenceEmbeddingModel, _ label: String) -> ([[Float]], Double) {
            _ = model.encode(Array(texts.prefix(batch)))  // warm-up
            let (vectors, seconds, cpu) = Measure.times { model.encode(texts) }
            let rate = Double(texts.count) / seconds
            perCPU = Double(texts.count) / cpu
            print(String(format: "native    sentences/s=%.1f  (%.2f s, %@)  %.1f GFLOP/s = %.0f%% of sgemm; "
                         + "per CPU-second %.1f sentences, %.1f GFLOP = %.0f%% of sgemm's",
                         rate, seconds, label, flops / seconds / 1e9, 100 * flops / seconds / 1e9 / peak,
                         Double(texts.count) / cpu, flops / cpu / 1e9, 100 * flops / cpu / 1e9 / peakPerCPU))
            return (vectors, rate)
        }
        let kernelLabel = (model.encoder.kernel.backend.isNative ? "native-kernel" : "cblas")
            + (model.encoder.precision.isReduced ? " + \(model.encoder.precision.kind)" : "")
        let (vectors, native) = run(model, "\(kernelLabel), \(threads) threads")
        print(String(format: "peak RSS %.0f MiB", Measure.peakRSSMiB()))
        if threads > 1 {
            let single = try Self.model(model, batch: batch, kernel: model.encoder.kernel, threads: 1)
            let (_, rate) = run(single, "\(kernelLabel), 1 thread, products on the library's threads")
            print(String(format: "%d threads / 1 thread = %.2fx", threads, native / rate))
            // Back to the default's library threads for what follows.
            model.encoder.kernel.useOneLibraryThread()
        }
        if !model.encoder.kernel.backend.isNative {
            let kernelModel = try Self.model(model, batch: batch, kernel: .native(reason: "bench encode"), threads: threads)
            let (kernelVectors, kernelRate) = run(kernelModel, "native-kernel, \(threads) threads")
            print(String(format: "native-kernel / cblas = %.2fx  (least cosine between their vectors %.7f)",
                         kernelRate / native, Self.leastCosine(vectors, kernelVectors)))
        }
        if EncoderPrecision.bf16Supported {
            try comparePrecisions(model, run: run, perCPU: { perCPU })
        } else {
            print("bf16 skipped: this CPU has no AVX512-BF16")
        }
        if !script.isEmpty, let value = python(script, ["--bench", String(texts.count), model.directory, argkp, String(batch)],
                                               prefix: "reference") {
            print(String(format: "reference sentences/s=%.1f  (numpy float32, tokenizers)", value))
            print("native (\(kernelLabel)) / reference = " + String(format: "%.2fx", native / value))
        }
        if !onnxScript.isEmpty, let value = python(onnxScript, ["--bench", String(texts.count), model.directory, argkp,
                                                                 String(batch), String(threads)], prefix: "onnxruntime") {
            print(String(format: "onnxruntime sentences/s=%.1f  (CPU, %d intra-op threads, same batches)", value, threads))
            print("native (\(kernelLabel)) / onnxruntime = " + String(format: "%.2fx", native / value))
        }
    }

    /// Float32 against BF16 weight products, same threads as `model`, alternating twice: float32 and bf16 with
    /// the Swift steps on the kernel `CONVERGE_BLAS` chooses (both still compute Float32 products), bf16 with the
    /// vector steps on the kernel such an encoder takes by default (`MatrixKernel.forEncoder`), and, where the CPU
    /// has AVX512-VNNI, int8 weight products with the vector steps.
    /// `perCPU` reads the sentences per CPU-second of the last `run`.
    func comparePrecisions(_ model: SentenceEmbeddingModel, run: (SentenceEmbeddingModel, String) -> ([[Float]], Double),
                           perCPU: () -> Double) throws {
        let kernel = MatrixKernel.shared
        let kernelLabel = kernel.backend.isNative ? "native-kernel" : "cblas"
        let (f32, f32Load) = try Measure.time {
            try Self.model(model, batch: batch, kernel: kernel, threads: threads, precision: .float32)
        }
        let bf16Kernel = MatrixKernel.forEncoder(precision: EncoderPrecision(.bf16, reason: "bench encode"))
        let (bf16, bf16Load) = try Measure.time {
            try Self.model(model, batch: batch, kernel: bf16Kernel, threads: threads, precision: .bf16)
        }
        // bf16 products with the Swift loops for the steps between them (as before CConvergeKernels' steps).
        let swiftSteps = try Self.model(model, batch: batch, kernel: kernel, threads: threads, precision: .bf16,
                                        vectorSteps: false)
        // int8 products (AVX512-VNNI) with the vector steps, where the CPU has them.
        let int8Kernel = MatrixKernel.forEncoder(precision: EncoderPrecision(.int8, reason: "bench encode"))
        let (int8, int8Load): (SentenceEmbeddingModel?, Double) = EncoderPrecision.int8Supported
            ? try Measure.time { try Self.model(model, batch: batch, kernel: int8Kernel, threads: threads, precision: .int8) }
            : (nil, 0)
        print("load (file cached): float32 " + Measure.ms(f32Load) + ", bf16 " + Measure.ms(bf16Load)
              + " (weights converted to BF16 and packed)"
              + (int8 == nil ? "; int8 skipped: this CPU has no AVX512-VNNI" : ", int8 " + Measure.ms(int8Load)))
        var best32 = 0.0, best16 = 0.0, bestSwift = 0.0, best8 = 0.0, cpu32 = 0.0, cpu16 = 0.0, cpuSwift = 0.0, cpu8 = 0.0
        var v32: [[Float]] = [], v16: [[Float]] = [], vSwift: [[Float]] = [], v8: [[Float]] = []
        for _ in 0..<2 {
            let (a, r32) = run(f32, "\(kernelLabel), float32, \(threads) threads")
            cpu32 = max(cpu32, perCPU())
            let (c, rSwift) = run(swiftSteps, "\(kernelLabel) + bf16 weight products, Swift steps, \(threads) threads")
            cpuSwift = max(cpuSwift, perCPU())
            let (b, r16) = run(bf16, "bf16 weight products, vector steps, \(threads) threads")
            cpu16 = max(cpu16, perCPU())
            if let int8 {
                let (d, r8) = run(int8, "int8 weight products (VNNI), vector steps, \(threads) threads")
                cpu8 = max(cpu8, perCPU())
                best8 = max(best8, r8)
                v8 = d
            }
            best32 = max(best32, r32)
            best16 = max(best16, r16)
            bestSwift = max(bestSwift, rSwift)
            (v32, v16, vSwift) = (a, b, c)
        }
        print(String(format: "bf16 / float32 = %.2fx in wall time, %.2fx per CPU-second  (best of 2 each; least cosine "
                     + "between their vectors %.7f)", best16 / best32, cpu16 / cpu32, Self.leastCosine(v32, v16)))
        print(String(format: "bf16 vector steps / Swift steps = %.2fx in wall time, %.2fx per CPU-second  (least cosine "
                     + "between their vectors %.7f)", best16 / bestSwift, cpu16 / cpuSwift, Self.leastCosine(vSwift, v16)))
        if int8 != nil {
            print(String(format: "int8 / bf16 = %.2fx in wall time, %.2fx per CPU-second; int8 / float32 = %.2fx, %.2fx  "
                         + "(least cosine to float32's vectors %.7f)", best8 / best16, cpu8 / cpu16, best8 / best32,
                         cpu8 / cpu32, Self.leastCosine(v32, v8)))
        }
    }

    /// The least dot product of two runs' unit vectors, pair by pair (1 when there are none).
    static func leastCosine(_ x: [[Float]], _ y: [[Float]]) -> Float {
        zip(x, y).map { a, b in zip(a, b).reduce(Float(0)) { $0 + $1.0 * $1.1 } }.min() ?? 1
    }

    static func model(_ model: SentenceEmbeddingModel, batch: Int, kernel: MatrixKernel, threads: Int,
                      precision: EncoderPrecision? = nil, vectorSteps: Bool? = nil) throws -> SentenceEmbeddingModel {
        do {
            return try SentenceEmbeddingModel(directory: model.directory, name: model.baseName, batchSize: batch,
                                              kernel: kernel, threads: threads,
                                              precision: precision ?? model.encoder.precision,
                                              adapter: model.encoder.adapter, vectorSteps: vectorSteps)
        } catch let error as EmbeddingModelError {
            throw EvalError(error.description)
        }
    }

    /// What the loader did before it used the files in place, timed here: every F32 tensor of the weights
    /// copied into an array, and tokenizer.json's vocabulary read through `JSONSerialization`.
    static func copyingLoadExtraSeconds(_ directory: String) throws -> Double {
        let weights = try SafeTensorsFile(path: directory + "/model.safetensors")
        let (_, copy) = try Measure.time {
            for (name, info) in weights.tensors where info.dtype == "F32" {
                _ = try weights.floats(name, shape: info.shape)
            }
        }
        let (_, json) = Measure.time {
            let data = FileManager.default.contents(atPath: directory + "/tokenizer.json") ?? Data()
            let root = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
            let vocab = (root?["model"] as? [String: Any])?["vocab"] as? [String: NSNumber] ?? [:]
            var vocabulary: [String: Int32] = [:]
            for (token, id) in vocab { vocabulary[token] = id.int32Value }
            return vocabulary.count
        }
        return copy + json
    }

    /// GFLOP/s of `parts` 2048^3 products at once on `kernel`, each on one thread, and GFLOP per CPU-second
    /// of the process; best of 3 each.
    static func sgemmRate(_ kernel: MatrixKernel, parts: Int) -> (wall: Double, perCPU: Double) {
        let n = 2048
        let a = UnsafeMutablePointer<Float>.allocate(capacity: n * n), b = UnsafeMutablePointer<Float>.allocate(capacity: n * n)
        let c = UnsafeMutablePointer<Float>.allocate(capacity: parts * n * n)
        defer { a.deallocate(); b.deallocate(); c.deallocate() }
        for i in 0..<n * n { a[i] = Float(i % 7) * 0.125; b[i] = Float(i % 5) * 0.25 }
        struct Operands: @unchecked Sendable { let a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float> }
        let operands = Operands(a: a, b: b, c: c)
        if parts > 1 { kernel.useOneLibraryThread() }
        var best = Double.infinity, bestCPU = Double.infinity
        for _ in 0..<3 {
            let (_, seconds, cpu) = Measure.times {
                DispatchQueue.concurrentPerform(iterations: parts) { p in
                    kernel.sgemm(transposeB: true, m: n, n: n, k: n, alpha: 1, a: operands.a, lda: n, b: operands.b, ldb: n,
                                 beta: 0, c: operands.c + p * n * n, ldc: n, threaded: parts == 1)
                }
            }
            best = min(best, seconds)
            bestCPU = min(bestCPU, cpu)
        }
        let work = Double(parts) * 2 * Double(n * n * n) / 1e9
        return (work / best, work / bestCPU)
    }

    /// GFLOP/s of `parts` 2048^3 BF16 products (`converge_bf16_gemm`, weights packed once) at once, each on one
    /// thread, and GFLOP per CPU-second of the process; best of 3 each.
    static func bf16Rate(parts: Int) -> (wall: Double, perCPU: Double) {
        packedRate(parts: parts, packedWords: converge_bf16_packed_weight_words, workspaceWords: converge_bf16_workspace_words,
                   pack: { converge_bf16_pack_weights($0, $1, $1, $1, $2) },
                   multiply: { a, n, packed, c, workspace in converge_bf16_gemm(a, n, n, packed, n, n, c, n, workspace) })
    }

    /// The same for int8 products (`converge_int8_pack_activations` then `converge_int8_gemm_packed` each time,
    /// weights packed once): multiply-adds counted as two operations.
    static func int8Rate(parts: Int) -> (wall: Double, perCPU: Double) {
        packedRate(parts: parts, packedWords: converge_int8_packed_weight_words, workspaceWords: converge_int8_workspace_words,
                   pack: { converge_int8_pack_weights($0, $1, $1, $1, $2) },
                   multiply: { a, n, packed, c, workspace in
                       converge_int8_pack_activations(a, n, n, n, 0, workspace)
                       converge_int8_gemm_packed(workspace, n, packed, n, n, c, n, nil)
                   })
    }

    /// `parts` n x n x n products (n = 2048) of a packed kernel at once, one thread each: `pack(w, n, packed)` once,
    /// then `multiply(a, n, packed, c, workspace)` per part; GFLOP/s and GFLOP per CPU-second, best of 3 each.
    static func packedRate(parts: Int, packedWords: (Int, Int) -> Int, workspaceWords: (Int, Int) -> Int,
                           pack: (UnsafePointer<Float>, Int, UnsafeMutablePointer<UInt32>) -> Void,
                           multiply: @escaping @Sendable (UnsafePointer<Float>, Int, UnsafePointer<UInt32>,
                                                          UnsafeMutablePointer<Float>, UnsafeMutablePointer<UInt32>) -> Void)
        -> (wall: Double, perCPU: Double)
    {
        let n = 2048
        let a = UnsafeMutablePointer<Float>.allocate(capacity: n * n), w = UnsafeMutablePointer<Float>.allocate(capacity: n * n)
        let c = UnsafeMutablePointer<Float>.allocate(capacity: parts * n * n)
        c.initialize(repeating: 0, count: parts * n * n)
        let packed = UnsafeMutablePointer<UInt32>.allocate(capacity: packedWords(n, n))
        let words = workspaceWords(n, n)
        let workspace = UnsafeMutablePointer<UInt32>.allocate(capacity: parts * words)
        defer { a.deallocate(); w.deallocate(); c.deallocate(); packed.deallocate(); workspace.deallocate() }
        for i in 0..<n * n { a[i] = Float(i % 7) * 0.125; w[i] = Float(i % 5) * 0.25 - 0.5 }
        pack(w, n, packed)
        struct Operands: @unchecked Sendable {
            let a: UnsafePointer<Float>, packed: UnsafePointer<UInt32>, c: UnsafeMutablePointer<Float>
            let workspace: UnsafeMutablePointer<UInt32>
        }
        let operands = Operands(a: a, packed: packed, c: c, workspace: workspace)
        var best = Double.infinity, bestCPU = Double.infinity
        for _ in 0..<3 {
            let (_, seconds, cpu) = Measure.times {
                DispatchQueue.concurrentPerform(iterations: parts) { p in
                    multiply(operands.a, n, operands.packed, operands.c + p * n * n, operands.workspace + p * words)
                }
            }
            best = min(best, seconds)
            bestCPU = min(bestCPU, cpu)
        }
        let work = Double(parts) * 2 * Double(n * n * n) / 1e9
        return (work / best, work / bestCPU)
    }

    /// Runs `python3 script arguments` and returns the number after `=` on its last output line starting
    /// with `prefix`, printing its other lines indented; prints why and returns nil when it fails.
    func python(_ script: String, _ arguments: [String], prefix: String) -> Double? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        do { try process.run() } catch {
            print("\(prefix) skipped: python3 \(script) cannot be started (\(error))")
            return nil
        }
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0,
              let line = out.split(separator: "\n").last(where: { $0.hasPrefix(prefix) }),
              let value = Double(line.split(separator: "=").last ?? "")
        else {
            print("\(prefix) failed (exit \(process.terminationStatus)): \(out)")
            return nil
        }
        for other in out.split(separator: "\n") where other != line { print("  \(prefix): \(other)") }
        return value
    }
}
