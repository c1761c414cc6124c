import ArgumentParser
import ConvergeTestSupport
import Foundation

/// `converge-eval bench ask`: a whole `converge ask` (cold process: start, model load, every request, the
/// analysis, the JSON report) against its physical limit, with real answers.
///
/// A scripted OpenAI-compatible server on loopback answers every request after `--latency`; panelist `mN`
/// gets AlpacaEval answer N % (models in the corpus) of prompt N / (models in the corpus), so the panel's
/// answers are distinct real texts. `converge ask PROMPT -m openai/m0 ... --no-store --concurrency P
/// --similarity S --format json` runs as a new process, alternating with `--similarity lexical`, for
/// `--rounds` rounds. Printed per run: wall time (process start to exit), the process's CPU time (user +
/// system, from getrusage(2) of the waited-for child), its peak RSS, and wall / limit, where the limit is the
/// latency (every request in flight at once: no survey can finish sooner).
struct BenchAsk: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ask",
                                                    abstract: "Time a cold `converge ask` with real answers against the latency.")

    @OptionGroup var alpacaEval: AlpacaEvalCorpusOption

    @Option(help: "Panelists (each asked once, all at once).")
    var panelists = 50

    @OptionGroup var latency: LatencyOption

    @Option(help: "Matching to compare with lexical: embedding or hybrid (lexical runs alone).")
    var similarity = "hybrid"

    @Option(help: "Rounds; each runs lexical, then the chosen matching.")
    var rounds = 3

    @Option(help: "The converge binary (default: the one next to converge-eval).")
    var converge: String?

    func validate() throws {
        guard panelists >= 1 else { throw ValidationError("--panelists must be at least 1, not \(panelists)") }
        guard rounds >= 1 else { throw ValidationError("--rounds must be at least 1, not \(rounds)") }
        guard ["lexical", "embedding", "hybrid"].contains(similarity) else {
            throw ValidationError("--similarity is lexical, embedding or hybrid, not \(similarity)")
        }
    }

    func run() async throws {
        let seconds = try latency.seconds()
        let binary = converge ?? URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("converge").path
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw ValidationError("\(binary) is not an executable converge binary; pass --converge PATH")
        }
        let outputs = try alpacaEval.outputs()
        let answers = (0..<panelists).map { n -> String in
            let model = outputs[n % outputs.count]
            return model[(n / outputs.count) % model.count].output
        }
        let server = try await ProviderTestServer.start()
        print("bench ask: \(panelists) panelists, latency \(seconds) s, loopback server at \(server.baseURL), "
              + "\(answers.reduce(0) { $0 + $1.utf8.count }) bytes of answers")
        print("machine: \(ProcessInfo.processInfo.activeProcessorCount) cores; converge: \(binary)")
        print("round  matching   wall       CPU        peak RSS    wall / limit")
        let kinds = similarity == "lexical" ? ["lexical"] : ["lexical", similarity]
        var walls: [String: [Double]] = [:]
        for round in 1...rounds {
            for kind in kinds {
                for (n, answer) in answers.enumerated() {
                    server.script("m\(n)", [.answer(answer, delay: seconds)])
                }
                let run = try Self.ask(binary: binary, server: server, panelists: panelists, similarity: kind)
                walls[kind, default: []].append(run.wall)
                print(String(format: "%5d  %@  %7.3f s  %7.3f s  %6.1f MiB  %6.2fx", round,
                             kind.padding(toLength: 9, withPad: " ", startingAt: 0), run.wall, run.cpu, run.peakMiB,
                             run.wall / seconds))
            }
        }
        for kind in kinds {
            let samples = walls[kind] ?? []
            print("\(kind): best \(String(format: "%.3f", samples.min() ?? 0)) s, median "
                  + String(format: "%.3f s = %.2fx the limit", Measure.percentile(samples, 50),
                           Measure.percentile(samples, 50) / seconds))
        }
        try await server.shutdown()
    }

    /// One cold `converge ask` of `panelists` panelists against `server` (`ColdProcess.run`: wall, the child's
    /// CPU and peak RSS). Throws when it exits non-zero, with its standard error.
    static func ask(binary: String, server: ProviderTestServer, panelists: Int, similarity: String) throws -> ColdProcess.Run {
        var arguments = ["ask", "How would you answer this?", "--no-store", "--concurrency", String(panelists),
                         "--similarity", similarity, "--format", "json"]
        for n in 0..<panelists { arguments += ["-m", "openai/m\(n)"] }
        var environment = ProcessInfo.processInfo.environment
        environment["OPENAI_API_KEY"] = "bench-key"
        environment["OPENAI_BASE_URL"] = server.baseURL + "/v1"
        return try ColdProcess.run(binary, arguments, environment: environment)
    }
}
