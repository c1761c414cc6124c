import ArgumentParser
import ConvergeEmbeddings
import Foundation

/// `converge-eval bench encode`: native all-MiniLM-L6-v2 encoding speed at batch 64 on ArgKP dev arguments,
/// with the matrix kernel `CONVERGE_BLAS` chooses (a CBLAS found at run time, else the native Swift kernel)
/// and, when that is a CBLAS, again with the native kernel (their ratio, and the least cosine between the two
/// runs' vectors); beside the numpy reference (scripts/minilm-reference.py --bench) on the same sentences in
/// the same run; and the first run's peak RSS.
struct BenchEncode: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "encode",
                                                    abstract: "Sentence embedding throughput vs the numpy reference.")

    @Option(help: "ArgKP folder (its arguments_dev.csv are the sentences).") var argkp = "../shared/corpus/argkp"
    @Option(help: "Sentences to encode.") var sentences = 932
    @Option(help: "Batch size.") var batch = 64
    @Option(help: "Reference script (empty skips it; a relative path is looked for in the current folder, then in the package).")
    var reference = "scripts/minilm-reference.py"

    /// The package root, from this source file's place in it (Sources/converge-eval/BenchEncode.swift).
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    /// `reference` as found: as given when it exists, else (relative) under the package root. Throws
    /// `EvalError` naming both places when it is in neither.
    static func resolveReference(_ reference: String) throws -> String {
        if FileManager.default.fileExists(atPath: reference) { return reference }
        let inPackage = packageRoot + "/" + reference
        if !reference.hasPrefix("/"), FileManager.default.fileExists(atPath: inPackage) { return inPackage }
        throw EvalError("reference script \(reference) not found (looked in \(FileManager.default.currentDirectoryPath)"
                        + (reference.hasPrefix("/") ? "" : " and \(packageRoot)") + "); pass --reference PATH, or --reference '' to skip it")
    }

    func run() throws {
        guard batch >= 1 else { throw EvalError("--batch must be at least 1, not \(batch)") }
        guard sentences >= 1 else { throw EvalError("--sentences must be at least 1, not \(sentences)") }
        let script = reference.isEmpty ? "" : try Self.resolveReference(reference)
        let data = try KPAData(directory: argkp, split: "dev")
        let texts = Array(data.arguments.map(\.text).prefix(sentences))
        let model = try loadEncoder(batchSize: batch)
        print("bench encode: \(texts.count) ArgKP dev arguments, batch \(batch), model \(model.directory)")
        print("machine: \(ProcessInfo.processInfo.activeProcessorCount) cores; matrix products: \(model.encoder.kernel.backend)")
        _ = model.encode(Array(texts.prefix(batch)))  // warm-up
        let (vectors, seconds) = Measure.time { model.encode(texts) }
        let native = Double(texts.count) / seconds
        let label = model.encoder.kernel.backend.isNative ? "native-kernel" : "cblas"
        print(String(format: "native    sentences/s=%.1f  (%.2f s, ", native, seconds) + label
              + String(format: ")  peak RSS %.0f MiB", Measure.peakRSSMiB()))
        if !model.encoder.kernel.backend.isNative {
            let kernelModel: SentenceEmbeddingModel
            do {
                kernelModel = try SentenceEmbeddingModel(directory: model.directory, name: model.modelName, batchSize: batch,
                                                         kernel: .native(reason: "bench encode"))
            } catch let error as EmbeddingModelError {
                throw EvalError(error.description)
            }
            _ = kernelModel.encode(Array(texts.prefix(batch)))  // warm-up
            let (kernelVectors, kernelSeconds) = Measure.time { kernelModel.encode(texts) }
            let kernelRate = Double(texts.count) / kernelSeconds
            let leastCosine = zip(vectors, kernelVectors).map { a, b in zip(a, b).reduce(Float(0)) { $0 + $1.0 * $1.1 } }
                .min() ?? 1
            print(String(format: "native    sentences/s=%.1f  (%.2f s, native-kernel)", kernelRate, kernelSeconds))
            print(String(format: "native-kernel / cblas = %.2fx  (least cosine between their vectors %.7f)",
                         kernelRate / native, leastCosine))
        }
        guard !script.isEmpty else { return }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, "--bench", String(texts.count), model.directory, argkp, String(batch)]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0,
              let line = out.split(separator: "\n").last(where: { $0.hasPrefix("reference") }),
              let value = Double(line.split(separator: "=").last ?? "")
        else {
            print("reference failed (exit \(process.terminationStatus)): \(out)")
            return
        }
        print(String(format: "reference sentences/s=%.1f  (numpy float32, tokenizers)", value))
        print("native (\(label)) / reference = " + String(format: "%.2fx", native / value))
    }
}
