import ConvergeTestSupport
import Foundation
import Testing

/// A measurement, not a check (run with `CONVERGE_MEASURE=1`): a batch of 100 prompts x 3 panelists at 0.5 s per
/// answer, a provider limit of 30 in flight, on two `converge worker` processes of 16 slots, followed by
/// `converge serve --queue` (posted to `POST /v1/batches`) and by `converge batch --queue`: wall time to the whole
/// batch reported, against the physical limit (300 / 30 x 0.5 s = 5 s), the follower's CPU time, requests sent and
/// the most in flight.
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["CONVERGE_MEASURE"] == "1"
                                && PostgresTestCluster.unavailableReason == nil))
struct BatchesQueueMeasurement {
    static let prompts = 100
    static let models = ["m1", "m2", "m3"]

    /// User plus system CPU seconds of a live process (Linux `/proc/PID/stat`, clock ticks of 1/100 s).
    static func cpuSeconds(_ pid: Int32) -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let end = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: end)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / 100
    }

    func setUp() async throws -> (provider: ProviderTestServer, env: [String: String], folder: URL) {
        let provider = try await ProviderTestServer.start()
        for model in Self.models { provider.script(model, Array(repeating: .answer(delay: 0.5), count: Self.prompts)) }
        let cluster = try PostgresTestCluster.shared()
        let name = "qm_" + UUID().uuidString.prefix(8).lowercased()
        try cluster.createDatabase(name)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("converge-measure-" + name)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data("concurrency: 30\n".utf8).write(to: folder.appendingPathComponent("converge.yaml"))
        let lines = (0..<Self.prompts).map { #"{"id": "p\#($0)", "prompt": "Question number \#($0)?"}"# }
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: folder.appendingPathComponent("set.jsonl"))
        let env = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": folder.path,
            "XDG_CONFIG_HOME": folder.appendingPathComponent("no-config").path,
            "XDG_DATA_HOME": folder.appendingPathComponent("no-models").path, "CONVERGE_OFFLINE": "1",
            "OPENAI_API_KEY": "sk-measure", "OPENAI_BASE_URL": provider.baseURL + "/v1",
            "CONVERGE_DATABASE_URL": cluster.url(database: name),
        ]
        return (provider, env, folder)
    }

    func workers(_ env: [String: String]) throws -> [BackgroundProcess] {
        try (0..<2).map { _ in try BackgroundProcess(ServeProcess.binary, ["worker", "--slots", "16"], environment: env) }
    }

    func stop(_ workers: [BackgroundProcess]) async {
        for worker in workers { worker.send(SIGTERM) }
        for worker in workers { _ = await worker.wait(timeout: .seconds(20)) }
    }

    /// Posts a batch to a `serve --queue` on a database with no worker and reads the server's CPU over 10 s of
    /// following it.
    func idle(_ base: String, server: ServeProcess, lines: inout [String]) async throws {
        let body: [String: Any] = [
            "prompts": (0..<Self.prompts).map { ["id": "idle\($0)", "prompt": "Idle question \($0)?"] },
            "panel": ["openai/idle"],
        ]
        let created = try await HTTP.send(base + "/v1/batches", method: .POST, headers: ["Content-Type": "application/json"],
                                          body: try JSONSerialization.data(withJSONObject: body))
        #expect(created.status == 202)
        try await Task.sleep(for: .seconds(1))
        let before = Self.cpuSeconds(server.pid) ?? 0
        try await Task.sleep(for: .seconds(10))
        let cpu = (Self.cpuSeconds(server.pid) ?? 0) - before
        lines.append("serve --queue following \(Self.prompts) queued surveys, no worker: CPU \(String(format: "%.2f", cpu)) s in 10 s")
    }

    @Test func serveQueueAgainstBatchQueue() async throws {
        var lines: [String] = []
        do {
            // The cost of following with no worker: a batch's threads queued, nothing answered.
            let (provider, env, folder) = try await setUp()
            let server = try ServeProcess(arguments: ["--queue", "--config", folder.appendingPathComponent("converge.yaml").path],
                                          environment: env)
            defer { server.kill() }
            try await idle(try await server.waitForURL(), server: server, lines: &lines)
            _ = try await server.terminate()
            try await provider.shutdown()
        }
        do {
            let (provider, env, folder) = try await setUp()
            let server = try ServeProcess(arguments: ["--queue", "--config", folder.appendingPathComponent("converge.yaml").path],
                                          environment: env)
            defer { server.kill() }
            let base = try await server.waitForURL()
            let cpuBefore = Self.cpuSeconds(server.pid) ?? 0
            let pool = try workers(env)
            let start = ContinuousClock.now
            let body: [String: Any] = [
                "prompts": (0..<Self.prompts).map { ["id": "p\($0)", "prompt": "Question number \($0)?"] },
                "panel": Self.models.map { "openai/\($0)" },
            ]
            let created = try await HTTP.send(base + "/v1/batches", method: .POST, headers: ["Content-Type": "application/json"],
                                              body: try JSONSerialization.data(withJSONObject: body))
            #expect(created.status == 202)
            let id = (try JSONSerialization.jsonObject(with: Data(created.text.utf8)) as? [String: Any])?["id"] as? String ?? ""
            let deadline = ContinuousClock.now + .seconds(300)
            while ContinuousClock.now < deadline {
                let detail = try await HTTP.send(base + "/v1/batches/\(id)")
                let object = try JSONSerialization.jsonObject(with: Data(detail.text.utf8)) as? [String: Any]
                if object?["status"] as? String == "complete" { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            let wall = ContinuousClock.now - start
            let cpu = (Self.cpuSeconds(server.pid) ?? 0) - cpuBefore
            lines.append("serve --queue: wall \(wall), follower CPU \(String(format: "%.1f", cpu)) s, requests "
                         + "\(provider.requests.count), most in flight \(provider.maxConcurrentRequests)")
            await stop(pool)
            _ = try await server.terminate()
            try await provider.shutdown()
        }
        do {
            let (provider, env, folder) = try await setUp()
            let pool = try workers(env)
            let start = ContinuousClock.now
            let batch = try BackgroundProcess(ServeProcess.binary, ["batch", folder.appendingPathComponent("set.jsonl").path, "--queue",
                                                                    "--concurrency", "30", "--quiet", "--format", "json"]
                                                  + Self.models.flatMap { ["-m", "openai/\($0)"] }, environment: env)
            var cpu = 0.0
            while batch.isRunning {
                cpu = Self.cpuSeconds(batch.pid) ?? cpu
                try await Task.sleep(for: .milliseconds(100))
            }
            let wall = ContinuousClock.now - start
            #expect(await batch.wait(timeout: .seconds(10)) == 0, "\(batch.stderr)")
            lines.append("batch --queue: wall \(wall), follower CPU at least \(String(format: "%.1f", cpu)) s, requests "
                         + "\(provider.requests.count), most in flight \(provider.maxConcurrentRequests)")
            await stop(pool)
            try await provider.shutdown()
        }
        print("BatchesQueueMeasurement (\(Self.prompts) prompts x \(Self.models.count) panelists, 0.5 s, limit 30, 2 workers x 16):\n"
              + lines.joined(separator: "\n"))
    }
}
