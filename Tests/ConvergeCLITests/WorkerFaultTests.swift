import ConvergeStore
import ConvergeTestSupport
import Foundation
import Testing

/// `converge worker` and `--queue` end to end, with faults: real worker processes, a real PostgreSQL cluster and
/// the scripted provider server on loopback, which records every request body. Every loop is bounded.
@Suite(.serialized, .enabled(if: PostgresTestCluster.unavailableReason == nil))
struct WorkerFaultTests {
    static let models = ["m1", "m2", "m3"]

    func environment(_ server: ProviderTestServer, db: String) -> [String: String] {
        [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
            "HOME": FileManager.default.temporaryDirectory.path,
            "XDG_CONFIG_HOME": FileManager.default.temporaryDirectory.appendingPathComponent("no-config").path,
            "XDG_DATA_HOME": FileManager.default.temporaryDirectory.appendingPathComponent("converge-no-models").path,
            "CONVERGE_OFFLINE": "1",
            "OPENAI_API_KEY": "sk-test-secret-openai", "OPENAI_BASE_URL": server.baseURL + "/v1",
            "CONVERGE_DATABASE_URL": db,
        ]
    }

    func freshDatabase(_ cluster: PostgresTestCluster) throws -> String {
        let name = "w_" + UUID().uuidString.prefix(8).lowercased()
        try cluster.createDatabase(name)
        return cluster.url(database: name)
    }

    /// A JSONL batch file of `count` prompts.
    func batchFile(_ count: Int) throws -> String {
        let lines = (0..<count).map { #"{"id": "p\#($0)", "prompt": "Question number \#($0)?"}"# }
        let dir = try CLI.temporaryFolder(["set.jsonl": Data((lines.joined(separator: "\n") + "\n").utf8)])
        return dir.appendingPathComponent("set.jsonl").path
    }

    func workers(_ count: Int, env: [String: String], slots: Int = 3, lease: Double = 2) throws -> [BackgroundProcess] {
        try (0..<count).map { _ in
            try BackgroundProcess(CLI.binary, ["worker", "--slots", "\(slots)", "--lease", "\(lease)"], environment: env)
        }
    }

    func batch(_ file: String, env: [String: String], concurrency: Int) throws -> BackgroundProcess {
        try BackgroundProcess(CLI.binary, ["batch", file, "--queue", "--concurrency", "\(concurrency)", "--format", "json",
                                           "--quiet"] + Self.models.flatMap { ["-m", "openai/\($0)"] }, environment: env)
    }

    /// Every stored request answered, one row per request, and every request body the server received at least
    /// once; returns how many bodies it received more than once.
    func checkAnsweredOnce(_ db: String, server: ProviderTestServer, prompts: Int) async throws -> Int {
        let store = try await openStore(try DatabaseURL(parsing: db))
        var rows: [StoredRequest] = []
        for survey in try await store.surveys(limit: 1000, offset: 0) { rows += try await store.requests(surveyID: survey.id) }
        await store.close()
        #expect(rows.count == prompts * Self.models.count)
        #expect(rows.allSatisfy { $0.state == .answered && $0.response?.text.hasPrefix("answer ") == true })
        var bodies: [Data: Int] = [:]
        for request in server.requests { bodies[request.body, default: 0] += 1 }
        #expect(bodies.count == prompts * Self.models.count, "distinct request bodies")
        #expect(bodies.values.allSatisfy { $0 <= 2 })
        return bodies.values.reduce(0) { $0 + $1 - 1 }
    }

    @Test func sqliteRefusesWorkersAndQueues() async throws {
        let server = try await ProviderTestServer.start()
        defer { Task { try? await server.shutdown() } }
        let dir = try CLI.temporaryFolder()
        let file = dir.appendingPathComponent("never.sqlite")
        let env = environment(server, db: "sqlite:" + file.path)
        let worker = try await CLI.run(["worker"], environment: env)
        #expect(worker.status == 2 && worker.stderr.contains("needs PostgreSQL"), "\(worker.stderr)")
        let ask = try await CLI.run(["ask", "Why?", "-m", "openai/m1", "--queue"], environment: env)
        #expect(ask.status == 2 && ask.stderr.contains("drop --queue"), "\(ask.stderr)")
        let batch = try await CLI.run(["batch", try batchFile(2), "-m", "openai/m1", "--queue"], environment: env)
        #expect(batch.status == 2 && batch.stderr.contains("needs PostgreSQL"), "\(batch.stderr)")
        let resume = try await CLI.run(["batches", "resume", "abcd", "--queue"], environment: env)
        #expect(resume.status == 2 && resume.stderr.contains("needs PostgreSQL"), "\(resume.stderr)")
        #expect(server.requests.isEmpty && !FileManager.default.fileExists(atPath: file.path))
    }

    @Test func aKilledWorkersThreadsAreTakenAgainAndEveryRequestIsAnsweredOnce() async throws {
        let cluster = try PostgresTestCluster.shared()
        let server = try await ProviderTestServer.start()
        defer { Task { try? await server.shutdown() } }
        for model in Self.models { server.script(model, [.answer(delay: 0.4)]) }
        let db = try freshDatabase(cluster)
        let env = environment(server, db: db)
        let prompts = 12
        // Three workers of three slots: nine threads at once if the limit let them, but it is six.
        let pool = try workers(3, env: env)
        let run = try batch(try batchFile(prompts), env: env, concurrency: 6)

        // SIGKILL the first worker seen holding live leases, mid-request (which worker claims first is the
        // scheduler's choice: under load one worker may take every thread before another starts).
        let store = try await openStore(try DatabaseURL(parsing: db))
        var victimIndex: Int?
        let deadline = ContinuousClock.now + .seconds(90)
        while victimIndex == nil && ContinuousClock.now < deadline && run.isRunning {
            let surveys = try await store.surveys(limit: 100, offset: 0).map(\.id)
            let live = try await workQueue(store).jobs(surveyIDs: surveys).filter(\.live)
            let holder = pool.indices.first { w in live.contains { $0.owner?.contains(":\(pool[w].pid):") == true } }
            if let holder, server.requests.count >= 3 {
                pool[holder].send(SIGKILL)
                victimIndex = holder
            } else {
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        let killed = victimIndex != nil
        #expect(killed, "no worker ever held a lease: \(pool.map(\.stderr))")
        let victim = pool[victimIndex ?? 0]
        let status = await run.wait(timeout: .seconds(120))
        #expect(status == 0, "\(run.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
        let items = report?["items"] as? [[String: Any]] ?? []
        #expect(items.count == prompts && items.allSatisfy { $0["answered"] as? Int == Self.models.count }, "\(run.stdout)")

        let surveys = try await store.surveys(limit: 100, offset: 0).map(\.id)
        let jobs = try await workQueue(store).jobs(surveyIDs: surveys)
        await store.close()
        #expect(jobs.count == prompts * Self.models.count && jobs.allSatisfy { $0.state == .done })
        // The killed worker's threads were taken again by the others.
        #expect(jobs.contains { $0.claims >= 2 && $0.owner?.contains(":\(victim.pid):") == false })
        let resent = try await checkAnsweredOnce(db, server: server, prompts: prompts)
        #expect(resent <= 3, "only what the killed worker had in flight is asked again")
        #expect(server.maxConcurrentRequests <= 6, "the provider limit holds over every worker")
        for (w, worker) in pool.enumerated() where w != victimIndex {
            worker.send(SIGTERM)
            let code = await worker.wait(timeout: .seconds(20))
            #expect(code == 0 && worker.stderr.contains("stopped"), "\(worker.stderr)")
        }
    }

    @Test func workersReconnectWhenPostgresRestartsMidBatch() async throws {
        let cluster = try PostgresTestCluster()
        defer { cluster.stop() }
        let server = try await ProviderTestServer.start()
        defer { Task { try? await server.shutdown() } }
        for model in Self.models { server.script(model, [.answer(delay: 0.3)]) }
        let db = cluster.url()
        let env = environment(server, db: db)
        let prompts = 10
        let pool = try workers(2, env: env, slots: 4, lease: 5)
        let run = try batch(try batchFile(prompts), env: env, concurrency: 8)
        let deadline = ContinuousClock.now + .seconds(60)
        while server.requests.count < 6 && run.isRunning && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(server.requests.count >= 6 && server.requests.count < prompts * Self.models.count, "restart mid-batch")
        try cluster.restart()
        let status = await run.wait(timeout: .seconds(150))
        #expect(status == 0, "\(run.stderr)")
        _ = try await checkAnsweredOnce(db, server: server, prompts: prompts)
        for worker in pool {
            worker.send(SIGTERM)
            let code = await worker.wait(timeout: .seconds(20))
            #expect(code == 0, "\(worker.stderr)")
        }
    }

    @Test func anInterruptedFollowerLeavesTheThreadsQueuedAndOnlyResumeQueueTakesThemUp() async throws {
        let server = try await ProviderTestServer.start()
        defer { Task { try? await server.shutdown() } }
        server.script("m1", [.answer(delay: 0.3)])
        let env = environment(server, db: try freshDatabase(try PostgresTestCluster.shared()))
        let first = try workers(1, env: env, slots: 2)[0]
        let follower = try BackgroundProcess(CLI.binary, ["batch", try batchFile(6), "-m", "openai/m1", "--queue"], environment: env)
        let deadline = ContinuousClock.now + .seconds(60)
        while server.requests.isEmpty && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        // No worker left, and nobody following: the threads stay queued.
        first.send(SIGTERM)
        #expect(await first.wait(timeout: .seconds(20)) == 0, "\(first.stderr)")
        follower.send(SIGINT)
        #expect(await follower.wait(timeout: .seconds(20)) == 130, "\(follower.stderr)")
        let id = try #require(follower.stderr.split(separator: "\n").first { $0.hasPrefix("converge: batch ") }?
            .dropFirst("converge: batch ".count).split(separator: ":").first.map(String.init))
        #expect(follower.stderr.contains("`converge batches resume \(id)` finishes it"), "\(follower.stderr)")
        // Asking them in-process too would ask them twice: refused, naming --queue.
        let here = try await CLI.run(["batches", "resume", id, "--quiet"], environment: env)
        #expect(here.status == 2 && here.stderr.contains("add --queue"), "\(here.stderr)")

        let second = try workers(1, env: env, slots: 2)[0]
        let resumed = try await CLI.run(["batches", "resume", id, "--queue", "--format", "json", "--quiet"], environment: env)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(resumed.stdout.utf8)) as? [String: Any]
        let items = report?["items"] as? [[String: Any]] ?? []
        #expect(items.count == 6 && items.allSatisfy { $0["answered"] as? Int == 1 }, "\(resumed.stdout)")
        // Every prompt asked; again only what the stopped worker had in flight (its 2 slots) and nothing answered.
        #expect(Set(server.requests.map(\.body)).count == 6)
        #expect(server.requests.count <= 6 + 2)
        second.send(SIGTERM)
        #expect(await second.wait(timeout: .seconds(20)) == 0)
    }

    @Test func askQueueFollowsTheWorkersThenReportsAsAskDoes() async throws {
        let server = try await ProviderTestServer.start()
        defer { Task { try? await server.shutdown() } }
        let env = environment(server, db: try freshDatabase(try PostgresTestCluster.shared()))
        let pool = try workers(1, env: env)
        let ask = try await CLI.run(["ask", "Why use a queue?", "-m", "openai/m1", "-m", "openai/m2", "--follow-up", "Say more.",
                                     "--queue", "--format", "json"], environment: env)
        #expect(ask.status == 0, "\(ask.stderr)")
        #expect(ask.stderr.contains("threads queued for `converge worker`"), "\(ask.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(ask.stdout.utf8)) as? [String: Any]
        let panelists = report?["panelists"] as? [[String: Any]] ?? []
        #expect(panelists.count == 2 && panelists.allSatisfy { $0["status"] as? String == "answered" }, "\(ask.stdout)")
        // Each thread asked in order by the worker, the follow-up carrying the thread's own first answer.
        for model in ["m1", "m2"] {
            let requests = server.requests(model: model)
            #expect(requests.count == 2)
            #expect(requests.last?.messages.map(\.role) == ["user", "assistant", "user"])
            #expect(requests.last?.messages[1].content.hasPrefix("answer 1 from \(model)") == true)
        }
        for worker in pool { worker.send(SIGTERM) }
        for worker in pool { #expect(await worker.wait(timeout: .seconds(20)) == 0) }
    }

    @Test func sigtermGivesTheLeasesBackAtOnceAndAnotherWorkerFinishes() async throws {
        let server = try await ProviderTestServer.start()
        defer { Task { try? await server.shutdown() } }
        server.script("held", [.answer("Held until the test says so.", after: "go")])
        let db = try freshDatabase(try PostgresTestCluster.shared())
        let env = environment(server, db: db)
        let first = try workers(1, env: env, lease: 60)[0]
        let ask = try BackgroundProcess(CLI.binary, ["ask", "Why?", "-m", "openai/held", "--queue", "--quiet"], environment: env)
        let deadline = ContinuousClock.now + .seconds(60)
        while server.requests(model: "held").isEmpty && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        first.send(SIGTERM)
        #expect(await first.wait(timeout: .seconds(20)) == 0, "\(first.stderr)")
        // Given back, not left to expire (the lease was 60 s).
        let store = try await openStore(try DatabaseURL(parsing: db))
        let surveys = try await store.surveys(limit: 10, offset: 0).map(\.id)
        let job = try #require(try await workQueue(store).jobs(surveyIDs: surveys).first)
        #expect(job.state == .queued && job.owner == nil && job.claims == 1)
        #expect(try await store.requests(surveyID: surveys[0]).allSatisfy { $0.state != .failed })
        let second = try workers(1, env: env)[0]
        while server.requests(model: "held").count < 2 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        server.open(gate: "go")
        #expect(await ask.wait(timeout: .seconds(60)) == 0, "\(ask.stderr)")
        let done = try #require(try await workQueue(store).jobs(surveyIDs: surveys).first)
        #expect(done.state == .done && done.claims == 2 && done.owner?.contains(":\(second.pid):") == true)
        await store.close()
        second.send(SIGTERM)
        #expect(await second.wait(timeout: .seconds(20)) == 0)
    }

    @Test(arguments: StoreCommandTests.Database.allCases)
    func twoResumesAtOnceOneProceedsAndTheOtherRefusesClearly(_ database: StoreCommandTests.Database) async throws {
        let server = try await ProviderTestServer.start()
        defer { Task { try? await server.shutdown() } }
        server.script("flaky", [.status(400, message: "no"), .status(400, message: "no")])
        let env = environment(server, db: try database.freshURL())
        let first = try await CLI.run(["batch", try batchFile(2), "-m", "openai/flaky", "--quiet"], environment: env)
        #expect(first.status == 4, "\(first.stderr)")
        let list = try await CLI.run(["batches", "list", "--format", "json"], environment: env)
        let batches = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]]
        let id = try #require(batches?.first?["id"] as? String)

        server.script("flaky", [.answer("Held until the test says so.", after: "go")])
        let resumes = try (0..<2).map { _ in try BackgroundProcess(CLI.binary, ["batches", "resume", id, "--quiet"], environment: env) }
        // One refuses at once; the other asks and waits at the gate.
        let deadline = ContinuousClock.now + .seconds(60)
        while resumes.allSatisfy(\.isRunning) && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        let refused = try #require(resumes.first { !$0.isRunning })
        let proceeding = try #require(resumes.first { $0 !== refused })
        #expect(await refused.wait(timeout: .seconds(5)) == 2, "\(refused.stderr)")
        #expect(refused.stderr.contains("is being asked by"), "\(refused.stderr)")
        while server.requests(model: "flaky").count < 3 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(proceeding.isRunning)
        server.open(gate: "go")
        #expect(await proceeding.wait(timeout: .seconds(60)) == 0, "\(proceeding.stderr)")
        #expect(server.requests(model: "flaky").count == 4)
    }
}
