import ConvergeStore
import ConvergeTestSupport
import Foundation
import Testing

/// Workers whose environments hold different providers' keys, on a real PostgreSQL cluster with the scripted
/// provider on loopback (OpenAI and Anthropic wire formats): a worker takes only the jobs of providers it has a key
/// for, and leaves the others queued, unclaimed and without a failure, for a worker that has the key.
@Suite(.serialized, .enabled(if: PostgresTestCluster.unavailableReason == nil))
struct WorkerKeysTests {
    static let openAIKey = "sk-test-openai-only-3c9e"
    static let anthropicKey = "sk-ant-test-anthropic-only-8b1f"

    func environment(_ server: ProviderTestServer, db: String, keys: [String: String]) -> [String: String] {
        let temporary = FileManager.default.temporaryDirectory
        return [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": temporary.path,
            "XDG_CONFIG_HOME": temporary.appendingPathComponent("no-config").path,
            "XDG_DATA_HOME": temporary.appendingPathComponent("converge-no-models").path, "CONVERGE_OFFLINE": "1",
            "OPENAI_BASE_URL": server.baseURL + "/v1", "ANTHROPIC_BASE_URL": server.baseURL, "CONVERGE_DATABASE_URL": db,
        ].merging(keys) { $1 }
    }

    @Test func aWorkerWithoutAProvidersKeyLeavesItsJobsForAWorkerThatHasIt() async throws {
        let cluster = try PostgresTestCluster.shared()
        let name = "wk_" + UUID().uuidString.prefix(8).lowercased()
        try cluster.createDatabase(name)
        let db = cluster.url(database: name)
        let server = try await ProviderTestServer.start()
        defer { Task { try? await server.shutdown() } }
        let prompts = 4
        let lines = (0..<prompts).map { #"{"id": "p\#($0)", "prompt": "Question \#($0)?"}"# }
        let dir = try CLI.temporaryFolder(["set.jsonl": Data((lines.joined(separator: "\n") + "\n").utf8)])
        let both = environment(server, db: db, keys: ["OPENAI_API_KEY": Self.openAIKey, "ANTHROPIC_API_KEY": Self.anthropicKey])
        // The batch plans with both keys; the workers each have one.
        let batch = try BackgroundProcess(CLI.binary, ["batch", dir.appendingPathComponent("set.jsonl").path, "--queue", "--quiet",
                                                       "--format", "json", "-m", "openai/gpt-x", "-m", "anthropic/claude-x"],
                                          environment: both)
        defer { if batch.isRunning { batch.send(SIGKILL) } }
        let openAIOnly = try BackgroundProcess(CLI.binary, ["worker", "--slots", "4", "--lease", "5"],
                                               environment: environment(server, db: db, keys: ["OPENAI_API_KEY": Self.openAIKey]))
        defer { if openAIOnly.isRunning { openAIOnly.send(SIGKILL) } }

        let store = try await openStore(try DatabaseURL(parsing: db))
        defer { Task { await store.close() } }
        func jobs() async throws -> [QueueJobStatus] {
            try await workQueue(store).jobs(surveyIDs: try await store.surveys(limit: 100, offset: 0).map(\.id))
        }
        // The OpenAI worker does every OpenAI thread...
        let deadline = ContinuousClock.now + .seconds(60)
        while try await jobs().filter({ $0.job.limitKey == "openai" && $0.state == .done }).count < prompts
                && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        // ... and, polling for a while longer, never takes an Anthropic one: queued, never claimed, no failure stored.
        try await Task.sleep(for: .seconds(1.5))
        let waiting = try await jobs().filter { $0.job.limitKey == "anthropic" }
        #expect(waiting.count == prompts)
        #expect(waiting.allSatisfy { $0.state == .queued && $0.claims == 0 && $0.owner == nil }, "\(waiting)")
        var rows: [StoredRequest] = []
        for survey in try await store.surveys(limit: 100, offset: 0) { rows += try await store.requests(surveyID: survey.id) }
        #expect(!rows.contains { $0.state == .failed }, "\(rows.filter { $0.state == .failed }.map(\.error))")
        #expect(rows.filter { $0.state == .answered }.count == prompts)
        #expect(server.requests.allSatisfy { $0.format == .openAI })
        #expect(batch.isRunning)
        #expect(openAIOnly.stderr.contains("ANTHROPIC_API_KEY") && openAIOnly.stderr.contains("not taking jobs"), "\(openAIOnly.stderr)")

        // A worker with the Anthropic key takes them, once each; the batch finishes with every prompt answered.
        let anthropicOnly = try BackgroundProcess(CLI.binary, ["worker", "--slots", "4", "--lease", "5"],
                                                  environment: environment(server, db: db, keys: ["ANTHROPIC_API_KEY": Self.anthropicKey]))
        defer { if anthropicOnly.isRunning { anthropicOnly.send(SIGKILL) } }
        #expect(await batch.wait(timeout: .seconds(90)) == 0, "\(batch.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(batch.stdout.utf8)) as? [String: Any]
        let items = report?["items"] as? [[String: Any]] ?? []
        #expect(items.count == prompts && items.allSatisfy { $0["answered"] as? Int == 2 }, "\(batch.stdout)")
        let done = try await jobs()
        #expect(done.allSatisfy { $0.state == .done && $0.claims == 1 })
        #expect(done.filter { $0.job.limitKey == "anthropic" }.allSatisfy { $0.owner?.contains(":\(anthropicOnly.pid):") == true })
        #expect(server.requests.count == 2 * prompts)
        for worker in [openAIOnly, anthropicOnly] {
            worker.send(SIGTERM)
            #expect(await worker.wait(timeout: .seconds(20)) == 0, "\(worker.stderr)")
            #expect(!worker.stderr.contains(Self.openAIKey) && !worker.stderr.contains(Self.anthropicKey))
        }
    }
}
