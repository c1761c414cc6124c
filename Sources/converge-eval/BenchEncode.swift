import ArgumentParser
import ConvergeEmbeddings
import Foundation

/// `converge-eval bench encode`: native all-MiniLM-L6-v2 encoding speed at batch 64 on ArgKP dev arguments,
/// beside the numpy reference (scripts/minilm-reference.py --bench) on the same sentences in the same run,
/// and the native run's peak RSS.
struct BenchEncode: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "encode",
                                                    abstract: "Sentence embedding throughput vs the numpy reference.")

    @Option(help: "ArgKP folder (its arguments_dev.csv are the sentences).") var argkp = "../shared/corpus/argkp"
    @Option(help: "Sentences to encode.") var sentences = 932
    @Option(help: "Batch size.") var batch = 64
    @Option(help: "Reference script (empty skips it).") var reference = "scripts/minilm-reference.py"

    func run() throws {
        let data = try KPAData(directory: argkp, split: "dev")
        let texts = Array(data.arguments.map(\.text).prefix(sentences))
        let model = try loadEncoder(batchSize: batch)
        print("bench encode: \(texts.count) ArgKP dev arguments, batch \(batch), model \(model.directory)")
        print("machine: \(ProcessInfo.processInfo.activeProcessorCount) cores")
        _ = model.encode(Array(texts.prefix(batch)))  // warm-up
        let (_, seconds) = Measure.time { model.encode(texts) }
        let native = Double(texts.count) / seconds
        print(String(format: "native    sentences/s=%.1f  (%.2f s)  peak RSS %.0f MiB", native, seconds, Measure.peakRSSMiB()))
        guard !reference.isEmpty else { return }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", reference, "--bench", String(texts.count), model.directory, argkp, String(batch)]
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
        print(String(format: "native / reference = %.2fx", native / value))
    }
}
