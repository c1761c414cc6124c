import ArgumentParser
import AsyncHTTPClient
import ConvergeStore
import ConvergeTestSupport
import Foundation
import Synchronization

/// `converge-eval soak`: `converge serve` driven from loopback by a mix of clients for a bounded time and
/// number of requests, on SQLite and on PostgreSQL, optionally with faults (the server SIGKILLed and started
/// again; PostgreSQL stopped and started again; the disk holding the SQLite database full, then its space back).
///
/// Fails (exit 1) on a 5xx other than a 503 while the database is down, a request with no answer while the
/// server is up, a survey left pending or with a panelist that never fails unanswered (lost), a request of a
/// survey asked twice when no restart explains it (duplicated), or a leak: resident memory or open
/// descriptors growing over the run (slope of a least-squares line after the warm-up, over limits stated in
/// RELIABILITY.md).
struct Soak: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Soak converge serve with a mix of clients, with faults; fail on 5xx, leaks, lost or duplicated answers.")

    @Option(help: "Minutes per backend.")
    var minutes = 2.0

    @Option(help: "Backends to soak, comma-separated: sqlite, postgres.")
    var backends = "sqlite,postgres"

    @Option(help: "Clients running at once.")
    var clients = 6

    @Option(name: .customLong("max-requests"), help: "Most requests per backend, all clients together.")
    var maxRequests = 200_000

    @Flag(help: """
        SIGKILL the server a third of the way in and start it again; two thirds in, stop PostgreSQL for 5 s, or fill the disk \
        holding the SQLite database for 10 s (a tmpfs: root with CAP_SYS_ADMIN).
        """)
    var faults = false

    @Option(help: "AlpacaEval model outputs for the analyses (the folder `bench analyze` reads).")
    var corpus = "../shared/corpus/alpaca-eval"

    @Option(help: "The converge executable to serve (default: the one built next to converge-eval).")
    var converge: String?

    /// Memory growth over the run, after warm-up, beyond which a leak is reported (MiB per minute).
    static let rssSlopeLimit = 8.0
    /// Descriptor growth beyond which a leak is reported (descriptors per minute).
    static let descriptorSlopeLimit = 3.0
    static let token = "soak-token-0123456789abcdef"
    static let panel = ["openai/steady-a", "openai/steady-b", "openai/flaky"]

    func validate() throws {
        guard minutes > 0, minutes <= 24 * 60 else { throw ValidationError("--minutes must be above 0 and at most 1440") }
        guard (1...64).contains(clients) else { throw ValidationError("--clients must be from 1 to 64") }
        guard maxRequests > 0 else { throw ValidationError("--max-requests must be at least 1") }
        for name in backendList where !["sqlite", "postgres"].contains(name) {
            throw ValidationError("--backends takes sqlite and postgres, not \(name)")
        }
    }

    var backendList: [String] { backends.split(separator: ",").map { String($0).trimmingWhitespace } }

    func run() async throws {
        let analyses = try analysisBodies()
        let binary = converge.map { URL(fileURLWithPath: $0) }
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("converge")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw ValidationError("no converge executable at \(binary.path): build it, or name it with --converge")
        }
        print("soak: \(minutes) min per backend, \(clients) clients, at most \(maxRequests) requests, faults \(faults ? "on" : "off")")
        var failed = false
        for backend in backendList {
            let passed = try await soak(backend, binary: binary, analyses: analyses)
            failed = failed || !passed
        }
        if failed { throw ExitCode(1) }
    }

    /// One backend's soak; whether it passed.
    func soak(_ backend: String, binary: URL, analyses: [Data]) async throws -> Bool {
        let provider = try await ProviderTestServer.start()
        // Two panelists that always answer, one that fails every fourth request (retried by the runner).
        provider.script("flaky", (0..<50_000).map { $0 % 4 == 1 ? .status(503, message: "scripted overload") : .answer(nil, delay: 0.05) })
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("converge-soak-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let cluster = backend == "postgres" ? try PostgresTestCluster() : nil
        // On SQLite the disk-full fault needs the folder on a volume of its own (a tmpfs); skipped, and said, when
        // none can be mounted.
        let volume: SoakVolume?
        if faults && cluster == nil {
            let (mounted, reason) = await SoakVolume.mount(at: folder)
            volume = mounted
            if mounted == nil { print("soak: the disk-full fault is skipped: \(reason)") }
        } else {
            volume = nil
        }
        let databaseURL = cluster?.url() ?? "sqlite:" + folder.appendingPathComponent("soak.sqlite").path
        let environment = ["OPENAI_API_KEY": "sk-soak-key-0123456789", "OPENAI_BASE_URL": provider.baseURL + "/v1",
                           "CONVERGE_API_TOKENS": Self.token, "XDG_CONFIG_HOME": folder.path, "XDG_DATA_HOME": folder.path]
        let directory = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        let startServer: @Sendable () throws -> ServeProcess = {
            try ServeProcess(binary: binary, arguments: ["--db", databaseURL, "--log-level", "warning"],
                             environment: environment, directory: directory)
        }
        let server = Locked(try startServer())
        let record = SoakRecord(baseURL: try await server.value.waitForURL())
        let http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup)
        let sampler = SoakSampler()
        let start = ContinuousClock.now
        let duration = Duration.milliseconds(Int(minutes * 60_000))
        let deadline = start + duration
        let events = Locked<[String]>([])
        let note: @Sendable (String) -> Void = { text in
            let line = String(format: "%7.1f s  ", SoakClients.seconds(since: start)) + text
            events.update { $0.append(line) }
        }
        let restarts = Locked(0)

        let clients = SoakClients(http: http, record: record, token: Self.token, analyses: analyses, panel: Self.panel)
        await withTaskGroup(of: Void.self) { group in
            for n in 0..<self.clients {
                group.addTask { await clients.run(client: n, deadline: deadline, budget: self.maxRequests) }
            }
            group.addTask {
                while ContinuousClock.now < deadline + .seconds(1) {
                    sampler.sample(pid: server.value.pid, at: SoakClients.seconds(since: start))
                    try? await Task.sleep(for: .seconds(1))
                }
            }
            if faults {
                group.addTask {
                    try? await Task.sleep(until: start + duration / 3, clock: .continuous)
                    record.phase = .serverDown
                    let killed = server.value
                    killed.kill()
                    while killed.process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
                    note("server SIGKILLed (pid \(killed.pid))")
                    do {
                        let restarted = try startServer()
                        record.baseURL = try await restarted.waitForURL()
                        server.update { $0 = restarted }
                        restarts.update { $0 += 1 }
                        note("server started again (pid \(restarted.pid)) at \(record.baseURL)")
                    } catch {
                        record.fail("the server did not start again after SIGKILL: \(error)")
                    }
                    record.phase = .normal
                    try? await Task.sleep(until: start + duration * 2 / 3, clock: .continuous)
                    if let volume { return await diskFull(volume, record: record, note: note) }
                    guard let cluster else { return }
                    record.phase = .databaseDown
                    do {
                        try cluster.stopServer()
                        note("PostgreSQL stopped")
                        try? await Task.sleep(for: .seconds(5))
                        try cluster.startAgain()
                        note("PostgreSQL started again")
                    } catch {
                        record.fail("PostgreSQL could not be stopped and started: \(error)")
                    }
                    // Pools reconnect on their next use; answers in this grace period may still be 503s.
                    try? await Task.sleep(for: .seconds(5))
                    record.phase = .normal
                }
            }
        }
        let elapsed = SoakClients.seconds(since: start)
        note("clients stopped after \(record.requestCount) requests")

        // Every survey finishes (the restarted server resumes those the kill interrupted), then each is checked.
        let store = try await openStore(try DatabaseURL(parsing: databaseURL))
        let settleDeadline = ContinuousClock.now + .seconds(180)
        var unsettled: [String] = []
        repeat {
            unsettled = []
            for id in record.surveys.keys where (try? await store.survey(id: id).status) == .running { unsettled.append(id) }
            if unsettled.isEmpty { break }
            try? await Task.sleep(for: .milliseconds(500))
        } while ContinuousClock.now < settleDeadline
        for id in unsettled.sorted() { record.fail("survey \(id) is still running 180 s after the clients stopped") }
        let integrity = await checkAnswers(record: record, store: store, provider: provider,
                                           restarts: restarts.value)
        await store.close()
        if volume != nil {
            let result = await SoakVolume.integrity(ofSQLite: folder.appendingPathComponent("soak.sqlite").path)
            note("PRAGMA integrity_check: \(result)")
            if result != "ok" { record.fail("the SQLite database is damaged after the disk-full fault: \(result)") }
        }

        let stopped = server.value
        let status = (try? await stopped.terminate()) ?? -1
        if status != 0 { record.fail("the server exited with status \(status) on SIGTERM") }
        try? await http.shutdown()
        try? await provider.shutdown()
        cluster?.stop()
        await volume?.unmount()
        try? FileManager.default.removeItem(at: folder)

        return report(backend: backend, record: record, sampler: sampler, elapsed: elapsed, events: events.value,
                      integrity: integrity)
    }

    /// The disk holding the SQLite database full for 10 s (the volume shrunk to what is in use), then its space
    /// back; 503s are documented until 5 s after.
    func diskFull(_ volume: SoakVolume, record: SoakRecord, note: @Sendable (String) -> Void) async {
        record.phase = .diskFull
        do {
            let kilobytes = try await volume.fill()
            note("disk full (the volume shrunk to the \(kilobytes) KiB in use)")
            try? await Task.sleep(for: .seconds(10))
            try await volume.free()
            note("disk space back")
        } catch {
            record.fail("the disk-full fault could not be made: \(error)")
        }
        try? await Task.sleep(for: .seconds(5))
        record.phase = .normal
    }

    struct Integrity {
        var surveys = 0
        var requests = 0
        var reasked = 0
    }

    /// Lost or duplicated answers: every request row of every survey ended (none pending), every request to a
    /// panelist that never fails answered, and each such request sent once (twice only when a restart of the
    /// server explains it: an answer in flight at the SIGKILL was never stored, so it is asked again).
    func checkAnswers(record: SoakRecord, store: any SurveyStore, provider: ProviderTestServer,
                      restarts: Int) async -> Integrity {
        var integrity = Integrity()
        var sent: [String: Int] = [:]  // "model\nprompt" -> requests received
        for model in ["steady-a", "steady-b"] {
            for request in provider.requests(model: model) {
                guard let prompt = request.messages.last(where: { $0.role == "user" })?.content else { continue }
                sent["\(model)\n\(prompt)", default: 0] += 1
            }
        }
        for (id, prompt) in record.surveys.sorted(by: { $0.key < $1.key }) {
            integrity.surveys += 1
            let rows: [StoredRequest]
            do {
                rows = try await store.requests(surveyID: id)
            } catch {
                record.fail("survey \(id) cannot be read back: \(error)")
                continue
            }
            integrity.requests += rows.count
            if rows.count != Self.panel.count { record.fail("survey \(id) has \(rows.count) request rows, not \(Self.panel.count)") }
            for row in rows {
                if row.state == .pending { record.fail("survey \(id): the request of \(row.key.panelistID) is still pending (lost)") }
                let steady = row.key.panelistID.hasPrefix("steady")
                if steady && row.state != .answered {
                    record.fail("survey \(id): \(row.key.panelistID) never fails but has no answer (\(row.error ?? "no error"))")
                }
            }
            for model in ["steady-a", "steady-b"] {
                let count = sent["\(model)\n\(prompt)", default: 0]
                if count > 1 { integrity.reasked += count - 1 }
                if count > 1 + restarts {
                    record.fail("survey \(id): \(model) was asked \(count) times (duplicated)")
                }
            }
        }
        if restarts == 0 && integrity.reasked > 0 {
            record.fail("\(integrity.reasked) requests were asked again without any restart (duplicated)")
        }
        return integrity
    }

    /// Prints the run's figures; whether it passed.
    func report(backend: String, record: SoakRecord, sampler: SoakSampler, elapsed: Double, events: [String],
                integrity: Integrity) -> Bool {
        print("\n== soak on \(backend): \(String(format: "%.1f", elapsed)) s, \(record.requestCount) requests, "
              + String(format: "%.1f", Double(record.requestCount) / max(elapsed, 0.001)) + " requests/s")
        for line in events { print("  " + line) }
        print("  route                                        count   p50 ms   p99 ms  statuses")
        for (route, stats) in record.routes.sorted(by: { $0.key < $1.key }) {
            let statuses = stats.statuses.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: " ")
                + (stats.refused > 0 ? " no-answer:\(stats.refused)" : "")
            let p50 = Measure.percentile(stats.latencies, 50) * 1000, p99 = Measure.percentile(stats.latencies, 99) * 1000
            print("  " + route.padding(toLength: 44, withPad: " ", startingAt: 0)
                  + String(format: " %6d %8.1f %8.1f  ", stats.latencies.count + stats.refused, p50, p99) + statuses)
        }
        print("  surveys \(integrity.surveys), request rows \(integrity.requests), asked again after a restart "
              + "\(integrity.reasked), 503s while the database was down or the disk full \(record.expected503)")
        var leaks: [String] = []
        for segment in sampler.all {
            let kept = SoakSampler.afterWarmUp(segment, warmUp: 0.25)
            guard let first = segment.samples.first, let last = segment.samples.last else { continue }
            let rss = SoakSampler.slope(kept.map { (x: $0.seconds / 60, y: $0.rssMiB) })
            let fds = SoakSampler.slope(kept.map { (x: $0.seconds / 60, y: Double($0.descriptors)) })
            let minutesLong = (last.seconds - first.seconds) / 60
            print(String(format: "  server pid %d: %.1f min, RSS %.1f -> %.1f MiB (max %.1f), slope after warm-up %+.2f MiB/min; "
                         + "descriptors %d -> %d, slope %+.2f/min", segment.pid, minutesLong, first.rssMiB, last.rssMiB,
                         segment.samples.map(\.rssMiB).max() ?? 0, rss, first.descriptors, last.descriptors, fds))
            // A slope needs enough samples to mean anything: a minute after warm-up.
            guard kept.count >= 45 else { continue }
            if rss > Self.rssSlopeLimit { leaks.append(String(format: "RSS grows %.2f MiB/min (pid %d)", rss, segment.pid)) }
            if fds > Self.descriptorSlopeLimit {
                leaks.append(String(format: "descriptors grow %.2f/min (pid %d)", fds, segment.pid))
            }
        }
        for leak in leaks { record.fail("leak: " + leak) }
        let failures = record.failures
        if failures.isEmpty {
            print("  PASS")
            return true
        }
        print("  FAIL: \(failures.count) problems")
        var counts: [String: Int] = [:]
        for failure in failures { counts[failure, default: 0] += 1 }
        for (failure, count) in counts.sorted(by: { $0.value > $1.value }).prefix(20) { print("    \(count)x \(failure)") }
        return false
    }

    /// One `POST /v1/analyses` body per AlpacaEval prompt (the first 20): five models' answers, lexical matching.
    func analysisBodies() throws -> [Data] {
        struct Output: Decodable { var instruction: String; var output: String }
        let folder = URL(fileURLWithPath: corpus)
        guard let files = try? FileManager.default.contentsOfDirectory(atPath: corpus).filter({ $0.hasSuffix(".json") }).sorted(),
              !files.isEmpty else { throw ValidationError("--corpus: no *.json model outputs in \(corpus)") }
        let outputs = try files.prefix(5).map {
            try JSONDecoder().decode([Output].self, from: Data(contentsOf: folder.appendingPathComponent($0)))
        }
        let prompts = min(20, outputs.map(\.count).min() ?? 0)
        return try (0..<prompts).map { p in
            let answers = outputs.enumerated().map { ["panelist": "m\($0.offset + 1)", "text": $0.element[p].output] }
            return try JSONSerialization.data(withJSONObject: ["prompt": outputs[0][p].instruction, "answers": answers,
                                                               "similarity": "lexical"])
        }
    }
}

/// A value shared between tasks behind a lock.
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) { mutex = Mutex(value) }

    var value: Value { mutex.withLock { $0 } }

    func update(_ change: (inout Value) -> Void) { mutex.withLock { change(&$0) } }
}
