import ArgumentParser
import ConvergeCore
import ConvergeTestSupport
import Foundation

/// `converge-eval bench batch`: a batch's wall time against the physical limit, with 1, 2, 4... `converge worker`
/// processes on PostgreSQL and with the in-process runner on SQLite, in one run.
///
/// A scripted OpenAI-compatible server on loopback answers every request after `--latency`; the batch is
/// `--prompts` prompts to `--panelists` panelists (one request each), with a provider limit of `--limit` in
/// flight. The physical limit is latency x ceil(requests / limit): with the limit binding, no runner can be faster.
/// Each run is the real `converge batch` (with `--queue` and that many `converge worker` processes of `--slots`
/// each, on a fresh database of a throwaway PostgreSQL cluster; or in-process on a fresh SQLite file), timed from
/// its start to its exit (planning, queueing, following, analysing every survey and writing the report), and to
/// its last answer (the last request's arrival at the server plus the latency). The server counts the requests
/// and the most in flight at once, which must never exceed the limit. Exit status 1 when a batch failed, the
/// server did not get exactly one request per panelist and prompt, or the limit was exceeded.
struct BenchBatch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "batch",
                                                    abstract: "Time a batch on workers and in-process against the physical limit.")

    @Option(help: "Prompts in the batch.")
    var prompts = 200

    @Option(help: "Panelists (one request per prompt each).")
    var panelists = 5

    @OptionGroup var latency: LatencyOption

    @Option(help: "The provider's limit: most requests in flight, over every worker.")
    var limit = 50

    @Option(help: "Worker process counts to run, comma-separated (0 or empty: none).")
    var workers = "1,2,4"

    @Option(help: "Slots of each worker (threads it asks at once).")
    var slots = 16

    @Flag(name: .customLong("skip-sqlite"), help: "Do not run the in-process runner on SQLite.")
    var skipSQLite = false

    @Option(help: "The converge executable (default: the one built next to converge-eval).")
    var converge: String?

    func validate() throws {
        guard prompts >= 1, panelists >= 1, limit >= 1, slots >= 1 else {
            throw ValidationError("--prompts, --panelists, --limit and --slots must be at least 1")
        }
    }

    var latencySeconds: Double { (try? latency.seconds()) ?? 0 }

    func run() async throws {
        let seconds = try latency.seconds()
        let counts = try workers.split(separator: ",").map { text -> Int in
            guard let n = Int(String(text).trimmingWhitespace), n >= 0 else {
                throw ValidationError("--workers takes whole numbers, comma-separated")
            }
            return n
        }.filter { $0 > 0 }
        let binary = converge.map { URL(fileURLWithPath: $0) }
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("converge")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw ValidationError("no converge executable at \(binary.path): build it, or name it with --converge")
        }
        let server = try await ProviderTestServer.start()
        let models = (0..<panelists).map { "m\($0)" }
        for model in models { server.script(model, [.answer(nil, delay: seconds)]) }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("converge-bench-batch-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("prompts.jsonl")
        let lines = (0..<prompts).map { #"{"id": "q\#($0)", "prompt": "Question \#($0): how do I make a web service faster?"}"# }
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: file)
        let environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
                           "HOME": folder.path, "XDG_CONFIG_HOME": folder.path, "XDG_DATA_HOME": folder.path,
                           "CONVERGE_OFFLINE": "1", "OPENAI_API_KEY": "bench-key", "OPENAI_BASE_URL": server.baseURL + "/v1"]
        let requests = prompts * panelists
        let physical = seconds * (Double(requests) / Double(limit)).rounded(.up)
        print("bench batch: \(prompts) prompts x \(panelists) panelists = \(requests) requests, latency \(seconds) s, "
              + "provider limit \(limit) in flight; worker slots \(slots)")
        print("machine: \(ProcessInfo.processInfo.activeProcessorCount) cores; physical limit "
              + String(format: "%.1f s (requests / limit x latency)", physical))
        print("runner                 wall      answers    limit     ratio (wall, answers)   sent  max in flight  status")
        let batchArguments = ["batch", file.path, "--concurrency", "\(limit)", "--quiet", "--format", "json",
                              "--output", folder.appendingPathComponent("report.json").path] + models.flatMap { ["-m", "openai/\($0)"] }
        var failed = false
        var cluster: PostgresTestCluster?
        if !counts.isEmpty { cluster = try PostgresTestCluster() }
        defer { cluster?.stop() }
        for count in counts {
            guard let cluster else { break }
            let name = "bench_\(count)_" + UUID().uuidString.prefix(6).lowercased()
            try cluster.createDatabase(name)
            var env = environment
            env["CONVERGE_DATABASE_URL"] = cluster.url(database: name)
            let pool = try (0..<count).map { _ in
                try BackgroundProcess(binary, ["worker", "--slots", "\(slots)", "--lease", "30"], environment: env)
            }
            // Every worker is up (its store opened and migrated) before the clock starts.
            let ready = ContinuousClock.now + .seconds(60)
            while !pool.allSatisfy({ $0.stderr.contains("taking requests") }) && ContinuousClock.now < ready {
                try await Task.sleep(for: .milliseconds(20))
            }
            let outcome = try await timed(binary, batchArguments + ["--queue"], environment: env, server: server)
            report(String(format: "%d worker%@ (postgres)", count, count == 1 ? "" : "s"), outcome, physical: physical)
            failed = failed || !passed(outcome, requests: requests)
            for worker in pool { worker.send(SIGTERM) }
            for worker in pool { _ = await worker.wait(timeout: .seconds(30)) }
        }
        if !skipSQLite {
            var env = environment
            env["CONVERGE_DATABASE_URL"] = "sqlite:" + folder.appendingPathComponent("bench.sqlite").path
            let outcome = try await timed(binary, batchArguments, environment: env, server: server)
            report("in-process (sqlite)", outcome, physical: physical)
            failed = failed || !passed(outcome, requests: requests)
        }
        try await server.shutdown()
        // A smoke run (scripts/test) fails on a batch that failed, a request lost or asked twice, or the limit exceeded.
        if failed { throw ExitCode(1) }
    }

    func passed(_ outcome: Outcome, requests: Int) -> Bool {
        outcome.status == 0 && outcome.sent == requests && outcome.maxInFlight <= limit
    }

    struct Outcome {
        var wall: Double
        /// From the start to the last answer (the last request's arrival plus the latency).
        var answered: Double
        var status: Int32?
        var sent: Int
        var maxInFlight: Int
    }

    /// Runs `converge ARGUMENTS` to its end (at most an hour), timing it, with the server's counts reset first.
    func timed(_ binary: URL, _ arguments: [String], environment: [String: String],
               server: ProviderTestServer) async throws -> Outcome {
        server.resetRecords()
        let started = Date()
        let start = ContinuousClock.now
        let process = try BackgroundProcess(binary, arguments, environment: environment)
        let status = await process.wait(timeout: .seconds(3600))
        let elapsed = ContinuousClock.now - start
        if status != 0 { FileHandle.standardError.write(Data(process.stderr.utf8)) }
        let lastSent = server.requests.map(\.receivedAt).max() ?? started
        return Outcome(wall: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18,
                       answered: lastSent.timeIntervalSince(started) + latencySeconds, status: status,
                       sent: server.requests.count, maxInFlight: server.maxConcurrentRequests)
    }

    func report(_ label: String, _ outcome: Outcome, physical: Double) {
        let padded = label.padding(toLength: 21, withPad: " ", startingAt: 0)
        print(padded + String(format: "  %7.2f s  %7.2f s  %6.1f s  %6.2f  %6.2f          %5d  %13d  ", outcome.wall,
                              outcome.answered, physical, outcome.wall / physical, outcome.answered / physical,
                              outcome.sent, outcome.maxInFlight) + (outcome.status.map { "exit \($0)" } ?? "timed out")
              + (outcome.maxInFlight > limit ? "  LIMIT EXCEEDED" : ""))
    }
}
