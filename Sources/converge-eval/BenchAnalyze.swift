import ArgumentParser
import ConvergeAnalysis
import ConvergeCore
import ConvergeEmbeddings
import Foundation

/// `converge-eval bench analyze`: analysis speed on real answers (AlpacaEval outputs), and how it grows.
///
/// Part 1 analyses `--prompts` prompts with `--panel-size` answers each and prints per-survey p50/p95/max
/// wall time, statements per second and peak RSS. Part 2 (the scaling run) times the same prompts with panels
/// of 2, 5, 10 and 20 answers (models repeated where the corpus has fewer) and with every answer repeated
/// x1, x4 and x16, and prints each median time as a ratio to the smallest case beside the n and n·log n
/// ratios, so that super-linear growth shows.
///
/// With `--similarity lexical|embedding|hybrid`, a cold-process part comes first: for each of the first
/// `--cold-prompts` prompts, its `--panel-size` answers are written to a survey folder and `converge analyze
/// --format json --similarity S` runs on it as a new process (the `converge` next to this binary, or
/// `--converge`), alternating with `--similarity lexical` on the same folder, so that both p50s (wall time,
/// process start to exit, model load included) come from the same run. Parts 1 and 2 then match with S too
/// (the model loaded once).
struct BenchAnalyze: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "analyze",
                                                    abstract: "Time the analysis on an AlpacaEval corpus.")

    @OptionGroup var alpacaEval: AlpacaEvalCorpusOption
    var corpus: String { alpacaEval.corpus }

    @Option(help: "Prompts to analyse.")
    var prompts = 100

    @Option(name: .customLong("panel-size"), help: "Answers per survey in the first part.")
    var panelSize = 5

    @Option(name: .customLong("scaling-prompts"), help: "Prompts per case in the scaling run (0 skips it).")
    var scalingPrompts = 10

    @Option(help: "Matching: lexical, embedding or hybrid; adds the cold-process comparison with lexical (default: in-process lexical only).")
    var similarity: String?

    @Option(name: .customLong("cold-prompts"), help: "Prompts of the cold-process part (with --similarity).")
    var coldPrompts = 20

    @Option(help: "The converge binary the cold-process part runs (default: the one next to converge-eval).")
    var converge: String?

    struct Output: Decodable { var instruction: String; var output: String }

    func validate() throws {
        if let similarity, !["lexical", "embedding", "hybrid"].contains(similarity) {
            throw ValidationError("--similarity must be lexical, embedding or hybrid, not \(similarity)")
        }
        if coldPrompts < 1 { throw ValidationError("--cold-prompts must be at least 1, not \(coldPrompts)") }
    }

    func run() throws {
        let outputs = try alpacaEval.outputs()
        let count = min(prompts, outputs[0].count)
        print("bench analyze: \(count) prompts x \(panelSize) answers from \(outputs.count) models (\(corpus))")
        print("machine: \(ProcessInfo.processInfo.activeProcessorCount) cores, "
              + String(format: "%.1f GiB", Double(ProcessInfo.processInfo.physicalMemory) / 1_073_741_824))

        if let similarity { try coldProcesses(outputs, similarity: similarity) }
        let analyzer: Analyzer
        do {
            analyzer = try similarity.map { Analyzer(similarity: try ModelStore().similarityModel($0).model) } ?? Analyzer()
        } catch let error as ModelStore.SimilarityError {
            throw ValidationError(error.description)
        }
        if let similarity { print("\nin process, \(similarity) matching (model loaded once):") }
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

    /// The cold-process part (see the type): `converge analyze` on each prompt's folder with `similarity` and
    /// with lexical matching, alternately; prints both p50s, p95s and their ratio.
    func coldProcesses(_ outputs: [[Output]], similarity: String) throws {
        let binary = converge ?? URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("converge").path
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw ValidationError("\(binary) is not an executable converge binary; pass --converge PATH")
        }
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("converge-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let count = min(coldPrompts, outputs[0].count)
        var times: [String: [Double]] = ["lexical": [], similarity: []]
        let kinds = similarity == "lexical" ? ["lexical"] : [similarity, "lexical"]
        for p in 0..<count {
            let folder = root.appendingPathComponent(String(format: "p%03d", p))
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let input = survey(outputs, prompt: p, size: panelSize, repeat: 1)
            try (input.prompt ?? "").write(to: folder.appendingPathComponent("prompt.md"), atomically: true, encoding: .utf8)
            for answer in input.answers {
                try answer.text.write(to: folder.appendingPathComponent(answer.panelist.id + ".md"), atomically: true,
                                      encoding: .utf8)
            }
            for kind in kinds {
                // posix_spawn and wait4 (ColdProcess): Foundation's waitUntilExit would round up to 50 ms steps.
                let run = try ColdProcess.run(binary, ["analyze", "--format", "json", "--similarity", kind, "--offline",
                                                        folder.path])
                times[kind, default: []].append(run.wall)
            }
        }
        print("cold process (`converge analyze --format json`, \(count) prompts x \(panelSize) answers, model load included):")
        for kind in kinds {
            let samples = times[kind] ?? []
            print("  \(kind.padding(toLength: 9, withPad: " ", startingAt: 0)) p50 \(Measure.ms(Measure.percentile(samples, 50))), "
                  + "p95 \(Measure.ms(Measure.percentile(samples, 95))), max \(Measure.ms(samples.max() ?? 0))")
        }
        if similarity != "lexical" {
            let ratio = Measure.percentile(times[similarity] ?? [], 50) / Measure.percentile(times["lexical"] ?? [], 50)
            print(String(format: "  %@ / lexical p50 = %.1fx", similarity, ratio))
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
