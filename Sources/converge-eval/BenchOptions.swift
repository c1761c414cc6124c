import ArgumentParser
import Foundation

/// `--latency`, for the benchmarks whose scripted loopback provider answers every request after it.
struct LatencyOption: ParsableArguments {
    @Option(help: "Latency of every answer, in seconds (`1`, `0.5`, `1s`, `250ms`).")
    var latency = "1s"

    /// `latency` in seconds; throws `ValidationError` when it is not a duration (`BenchFanout.parseDuration`).
    func seconds() throws -> Double { try BenchFanout.parseDuration(latency) }
}

/// `--corpus`, for the benchmarks that read AlpacaEval model outputs.
struct AlpacaEvalCorpusOption: ParsableArguments {
    @Option(help: "Folder of AlpacaEval model outputs (*.json, lists of {instruction, output}).")
    var corpus = "../shared/corpus/alpaca-eval"

    /// Every model's outputs in `corpus` (its *.json files in name order), each a list of {instruction, output}.
    /// Throws `ValidationError` when the folder cannot be read or holds no *.json file.
    func outputs() throws -> [[BenchAnalyze.Output]] {
        let folder = URL(fileURLWithPath: corpus)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: corpus) else {
            throw ValidationError("--corpus \(corpus) is not a readable folder of AlpacaEval model outputs")
        }
        let files = names.filter { $0.hasSuffix(".json") }.sorted()
        guard !files.isEmpty else { throw ValidationError("no *.json model outputs in \(corpus)") }
        return try files.map {
            try JSONDecoder().decode([BenchAnalyze.Output].self, from: Data(contentsOf: folder.appendingPathComponent($0)))
        }
    }
}
