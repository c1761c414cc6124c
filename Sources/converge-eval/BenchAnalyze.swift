import ArgumentParser
import ConvergeAnalysis
import ConvergeCore
import Foundation

/// `converge-eval bench analyze`: analysis speed on real answers (AlpacaEval outputs), and how it grows.
///
/// Part 1 analyses `--prompts` prompts with `--panel-size` answers each and prints per-survey p50/p95/max
/// wall time, statements per second and peak RSS. Part 2 (the scaling run) times the same prompts with panels
/// of 2, 5, 10 and 20 answers (models repeated where the corpus has fewer) and with every answer repeated
/// x1, x4 and x16, and prints each median time as a ratio to the smallest case beside the n and n·log n
/// ratios, so that super-linear growth shows.
struct BenchAnalyze: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "analyze",
                                                    abstract: "Time the analysis on an AlpacaEval corpus.")

    @Option(help: "Folder of AlpacaEval model outputs (*.json, lists of {instruction, output}).")
    var corpus = "../shared/corpus/alpaca-eval"

    @Option(help: "Prompts to analyse.")
    var prompts = 100

    @Option(name: .customLong("panel-size"), help: "Answers per survey in the first part.")
    var panelSize = 5

    @Option(name: .customLong("scaling-prompts"), help: "Prompts per case in the scaling run (0 skips it).")
    var scalingPrompts = 10

    struct Output: Decodable { var instruction: String; var output: String }

    func run() throws {
        let outputs = try loadCorpus()
        let count = min(prompts, outputs[0].count)
        print("bench analyze: \(count) prompts x \(panelSize) answers from \(outputs.count) models (\(corpus))")
        print("machine: \(ProcessInfo.processInfo.activeProcessorCount) cores, "
              + String(format: "%.1f GiB", Double(ProcessInfo.processInfo.physicalMemory) / 1_073_741_824))

        let analyzer = Analyzer()
        var times: [Double] = []
        var statements = 0
        for p in 0..<count {
            let input = survey(outputs, prompt: p, size: panelSize, repeat: 1)
            let (report, seconds) = Measure.time { analyzer.analyze(input) }
            times.append(seconds)
            statements += report.analysis?.statements ?? 0
        }
        let total = times.reduce(0, +)
        print("per survey: p50 \(Measure.ms(Measure.percentile(times, 50))), "
              + "p95 \(Measure.ms(Measure.percentile(times, 95))), max \(Measure.ms(times.max() ?? 0))")
        print(String(format: "throughput: %.0f statements/s (%d statements in %.2f s)",
                     Double(statements) / total, statements, total))
        print(String(format: "peak RSS: %.1f MiB", Measure.peakRSSMiB()))

        guard scalingPrompts > 0 else { return }
        let scaleCount = min(scalingPrompts, count)
        print("\nscaling (median of \(scaleCount) prompts; ratio to the smallest case; n and n log n for reference)")
        func median(size: Int, repeat factor: Int) -> (Double, Int) {
            var samples: [Double] = []
            var n = 0
            for p in 0..<scaleCount {
                let input = survey(outputs, prompt: p, size: size, repeat: factor)
                n += input.answers.reduce(0) { $0 + $1.text.unicodeScalars.count }
                samples.append(Measure.time { analyzer.analyze(input) }.1)
            }
            return (Measure.percentile(samples, 50), n / scaleCount)
        }
        func table(_ label: String, _ cases: [(String, Int, Int)]) {
            print("  \(label)")
            var base: (time: Double, n: Int)?
            for (name, size, factor) in cases {
                let (time, n) = median(size: size, repeat: factor)
                let b = base ?? (time, n)
                base = b
                let r = Double(n) / Double(b.n)
                let nlogn = r * log(Double(n)) / log(Double(b.n))
                let padded = name.padding(toLength: 8, withPad: " ", startingAt: 0)
                let timeText = Measure.ms(time)
                print("    \(padded) \(String(repeating: " ", count: max(0, 10 - timeText.count)))\(timeText)  "
                      + String(format: "x%-6.2f (n x%.2f, n log n x%.2f)  %d scalars", time / b.time, r, nlogn, n))
            }
        }
        table("panel size", [2, 5, 10, 20].map { ("K=\($0)", $0, 1) })
        table("answer length (K=5)", [1, 4, 16].map { ("x\($0)", 5, $0) })
        print(String(format: "peak RSS: %.1f MiB", Measure.peakRSSMiB()))
    }

    func loadCorpus() throws -> [[Output]] {
        let folder = URL(fileURLWithPath: corpus)
        let files = try FileManager.default.contentsOfDirectory(atPath: corpus).filter { $0.hasSuffix(".json") }.sorted()
        guard !files.isEmpty else { throw ValidationError("no *.json model outputs in \(corpus)") }
        return try files.map {
            try JSONDecoder().decode([Output].self, from: Data(contentsOf: folder.appendingPathComponent($0)))
        }
    }

    /// `size` answers to prompt `prompt`, cycling through the models; each answer repeated `factor` times.
    func survey(_ outputs: [[Output]], prompt: Int, size: Int, repeat factor: Int) -> AnalysisInput {
        let answers = (0..<size).map { k in
            let text = outputs[k % outputs.count][prompt].output
            return Answer(panelist: Panelist(id: "m\(k + 1)"),
                          text: Array(repeating: text, count: factor).joined(separator: "\n\n"))
        }
        return AnalysisInput(prompt: outputs[0][prompt].instruction, answers: answers, rubric: nil)
    }
}
