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

    /// One cold `converge ask` of `panelists` panelists against `server`: wall seconds, the child's CPU seconds
    /// and peak RSS (wait4(2)). Throws when it exits non-zero, with its standard error.
    static func ask(binary: String, server: ProviderTestServer, panelists: Int,
                    similarity: String) throws -> (wall: Double, cpu: Double, peakMiB: Double) {
        var arguments = ["ask", "How would you answer this?", "--no-store", "--concurrency", String(panelists),
                         "--similarity", similarity, "--format", "json"]
        for n in 0..<panelists { arguments += ["-m", "openai/m\(n)"] }
        var environment = ProcessInfo.processInfo.environment
        environment["OPENAI_API_KEY"] = "bench-key"
        environment["OPENAI_BASE_URL"] = server.baseURL + "/v1"
        let errors = FileManager.default.temporaryDirectory.appendingPathComponent("bench-ask-\(UUID().uuidString).err")
        defer { try? FileManager.default.removeItem(at: errors) }
        // posix_spawn and wait4 rather than Foundation's Process, whose own reaping would race wait4: wait4
        // returns the child's own rusage (CPU time, peak RSS).
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, errors.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let argv = ([binary] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        var status: Int32 = 0
        var usage = rusage()
        let (spawned, wall) = Measure.time { () -> Int32 in
            let spawned = posix_spawn(&pid, binary, &actions, nil, argv, envp)
            if spawned == 0 { while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {} }
            return spawned
        }
        guard spawned == 0 else { throw ValidationError("cannot start \(binary): \(String(cString: strerror(spawned)))") }
        let exited = (status & 0x7f) == 0, code = (status >> 8) & 0xff
        guard exited && code == 0 else {
            let stderr = (try? String(contentsOf: errors, encoding: .utf8)) ?? ""
            let how = exited ? "exit \(code)" : "signal \(status & 0x7f)"
            throw ValidationError("converge ask --similarity \(similarity) failed (\(how)): \(stderr.suffix(2000))")
        }
        let cpu = Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        return (wall, cpu, Double(usage.ru_maxrss) / 1024)
    }
}
