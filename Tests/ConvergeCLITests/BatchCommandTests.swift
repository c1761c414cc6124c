import ConvergeStore
import ConvergeTestSupport
import Foundation
import Testing

/// `converge batch` and `converge batches` end to end: the real binary, a real SQLite file (and PostgreSQL
/// cluster), scripted providers on loopback, and real AlpacaEval answers (../shared/corpus, read in place).
@Suite(.serialized) struct BatchCommandTests {
    func environment(_ server: ProviderTestServer?, db: String) -> [String: String] {
        var env = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
            "HOME": FileManager.default.temporaryDirectory.path,
            "XDG_CONFIG_HOME": FileManager.default.temporaryDirectory.appendingPathComponent("no-config").path,
            "XDG_DATA_HOME": FileManager.default.temporaryDirectory.appendingPathComponent("converge-no-models").path,
            "CONVERGE_OFFLINE": "1",
            "CONVERGE_DATABASE_URL": db,
        ]
        if let server {
            env["OPENAI_API_KEY"] = "sk-test-secret-openai"
            env["OPENAI_BASE_URL"] = server.baseURL + "/v1"
            env["ANTHROPIC_API_KEY"] = "sk-ant-test-secret"
            env["ANTHROPIC_BASE_URL"] = server.baseURL
        }
        return env
    }

    /// The id printed as `converge: batch ID: ...`.
    func batchID(in stderr: String) -> String? {
        stderr.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("converge: batch ") else { return nil }
            return line.dropFirst("converge: batch ".count).split(separator: ":").first.map(String.init)
        }.first
    }

    func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    /// Validates `file` against schema/batch-report-v1.json with Python's jsonschema.
    func validate(_ file: URL) throws -> (status: Int32, output: String) {
        let output = try CLI.run(["python3", "-c", """
            import json, sys, jsonschema
            schema = json.load(open("schema/batch-report-v1.json"))
            jsonschema.Draft202012Validator.check_schema(schema)
            jsonschema.validate(json.load(open(sys.argv[1])), schema, cls=jsonschema.Draft202012Validator)
            print("valid")
            """, file.path], executable: URL(fileURLWithPath: "/usr/bin/env"))
        return (output.status, output.stdout + output.stderr)
    }

    // MARK: answer folders

    struct Output: Decodable { var instruction: String; var output: String }

    static let models = ["claude-3-5-sonnet-20240620", "gpt-4o-2024-05-13", "Meta-Llama-3.1-405B-Instruct-Turbo",
                         "mistral-large-2402", "Qwen2-72B-Instruct"]
    static let names = ["claude", "gpt4o", "llama", "mistral", "offtopic"]
    /// 20 prompts spread over the 805.
    static let prompts = Array(stride(from: 3, to: 800, by: 40))

    /// 20 survey folders of real answers; the fifth panelist answers another prompt (Qwen's answer to the prompt
    /// 400 further on), so it is off-topic everywhere. The first folder has a rubric.
    func alpacaFolders() throws -> URL {
        let corpus = CLI.repo.deletingLastPathComponent().appendingPathComponent("shared/corpus/alpaca-eval")
        let outputs = try Self.models.map { model in
            try JSONDecoder().decode([Output].self, from: Data(contentsOf: corpus.appendingPathComponent("\(model).json")))
        }
        let root = try CLI.temporaryFolder()
        for p in Self.prompts {
            let dir = root.appendingPathComponent(String(format: "alpaca-%03d", p))
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            try Data(outputs[0][p].instruction.utf8).write(to: dir.appendingPathComponent("prompt.md"))
            for (n, name) in Self.names.enumerated() {
                let text = n == 4 ? outputs[4][(p + 400) % 805].output : outputs[n][p].output
                try Data(text.utf8).write(to: dir.appendingPathComponent("\(name).md"))
            }
        }
        let rubric = """
            title: Broad coverage
            categories:
              - name: Any
                items:
                  - {id: list, text: A list of examples}
                  - {id: summary, text: A short summary at the end}
            """
        try Data(rubric.utf8).write(to: root.appendingPathComponent(String(format: "alpaca-%03d", Self.prompts[0]))
            .appendingPathComponent("rubric.yaml"))
        return root
    }

    @Test func twentyAlpacaEvalFoldersGiveAValidBatchReportWithThePinnedOutlier() async throws {
        let root = try alpacaFolders()
        let db = "sqlite:" + (try CLI.temporaryFolder()).appendingPathComponent("b.sqlite").path
        let env = environment(nil, db: db)
        let out = root.appendingPathComponent("batch.json")
        let result = try await CLI.run(["batch", "--from-folders", root.path, "--format", "json", "--output", out.path],
                                       environment: env)
        #expect(result.status == 0, "\(result.stderr)")
        let id = try #require(batchID(in: result.stderr))
        let validation = try validate(out)
        #expect(validation.status == 0, "\(validation.output)")

        let report = try json(String(contentsOf: out, encoding: .utf8))
        #expect(report["batch"] as? String == id)
        let items = try #require(report["items"] as? [[String: Any]])
        #expect(items.count == 20)
        let convergence = items.compactMap { $0["convergence"] as? Double }
        #expect(convergence.count == 20 && convergence == convergence.sorted())
        #expect(items.allSatisfy { ($0["survey"] as? String)?.count == 12 && $0["answered"] as? Int == 5 })
        let panelists = try #require(report["panelists"] as? [[String: Any]])
        #expect(panelists.map { $0["id"] as? String } == Self.names)
        let byID = Dictionary(uniqueKeysWithValues: panelists.map { ($0["id"] as! String, $0) })
        for panelist in panelists {
            #expect(panelist["prompts"] as? Int == 20 && panelist["failureRate"] as? Double == 0)
            #expect(panelist["sharedShare"] is Double && panelist["uniqueShare"] is Double)
            #expect(panelist["outlierRate"] is Double)
            #expect(panelist["omissions"] is [String: Any])  // the rubric of the first folder
            #expect(panelist["latencyMs"] is NSNull && panelist["costUSD"] is NSNull)  // imported: unknown
        }
        // The off-topic panelist is the outlier of most prompts, and shares the fewest of its points.
        let outlierRate = { (id: String) in byID[id]?["outlierRate"] as? Double ?? -1 }
        #expect(outlierRate("offtopic") >= 0.75, "\(panelists.map { ($0["id"]!, $0["outlierRate"]!) })")
        #expect(Self.names.dropLast().allSatisfy { outlierRate($0) < outlierRate("offtopic") })
        let shared = { (id: String) in byID[id]?["sharedShare"] as? Double ?? 2 }
        #expect(Self.names.dropLast().allSatisfy { shared($0) > shared("offtopic") })
        let agreement = try #require(report["agreement"] as? [String: [String: Double]])
        #expect(agreement.count == 5 && agreement["claude"]?["claude"] == 1)
        #expect(agreement["claude"]!["gpt4o"]! > agreement["claude"]!["offtopic"]!)

        // The batch is stored: listed, shown (progress, CSV), exported with each survey's report, deleted.
        let list = try await CLI.run(["batches", "list", "--format", "json"], environment: env)
        #expect(list.status == 0 && list.stdout.contains(id), "\(list.stderr)")
        let show = try await CLI.run(["batches", "show", String(id.prefix(6)), "--format", "csv"], environment: env)
        #expect(show.status == 0 && show.stderr.contains("20 prompts: 20 complete"), "\(show.stderr)")
        #expect(show.stdout.split(separator: "\r\n").count == 6 && show.stdout.hasPrefix("panelist,label,model"))
        let export = try CLI.temporaryFolder().appendingPathComponent("out")
        let exported = try await CLI.run(["batches", "export", id, "--to", export.path], environment: env)
        #expect(exported.status == 0, "\(exported.stderr)")
        let markdown = try String(contentsOf: export.appendingPathComponent("batch.md"), encoding: .utf8)
        let first = String(format: "alpaca-%03d", Self.prompts[0])
        #expect(markdown.contains("(surveys/\(first).md)"))
        for name in ["surveys/\(first).md", "surveys/\(first).json", "surveys/\(first).html", "batch.html", "batch.csv"] {
            #expect(FileManager.default.fileExists(atPath: export.appendingPathComponent(name).path), "\(name)")
        }
        let page = try String(contentsOf: export.appendingPathComponent("batch.html"), encoding: .utf8)
        #expect(page.contains("href=\"surveys/\(first).html\""))
        #expect(try validate(export.appendingPathComponent("batch.json")).status == 0)
        let deleted = try await CLI.run(["batches", "delete", id], environment: env)
        #expect(deleted.status == 0, "\(deleted.stderr)")
        let surveys = try await CLI.run(["surveys", "list", "--format", "json"], environment: env)
        #expect((try JSONSerialization.jsonObject(with: Data(surveys.stdout.utf8)) as? [Any])?.isEmpty == true, "\(surveys.stdout)")
        let gone = try await CLI.run(["batches", "show", id], environment: env)
        #expect(gone.status == 2 && gone.stderr.contains("no batch with id"))
    }

    // MARK: a live panel

    @Test(arguments: StoreCommandTests.Database.allCases)
    func aBatchAsksEachPromptOnceAndResumesOnlyWhatFailed(_ database: StoreCommandTests.Database) async throws {
        let server = try await ProviderTestServer.start()
        defer { Task { try? await server.shutdown() } }
        // m2's first request is refused (400: not retried); it answers after that.
        server.script("m2", [.status(400, message: "bad request"), .answer()])
        let dir = try CLI.temporaryFolder([
            "set.jsonl": Data("""
                {"id": "cache", "prompt": "Should we cache responses?"}
                {"id": "index", "prompt": "When does an index help?"}
                {"id": "queue", "prompt": "Why use a queue?"}
                """.utf8),
            "converge.yaml": Data("prices:\n  openai/m1: {input: 1, output: 2}\n".utf8),
        ])
        let env = environment(server, db: try database.freshURL())
        let config = dir.appendingPathComponent("converge.yaml").path
        let file = dir.appendingPathComponent("set.jsonl").path
        let first = try await CLI.run(["batch", file, "-m", "openai/m1", "-m", "anthropic/m2", "--config", config,
                                       "--format", "json"], environment: env)
        #expect(first.status == 3, "\(first.stderr)")
        let id = try #require(batchID(in: first.stderr))
        #expect(server.requests(model: "m1").count == 3 && server.requests(model: "m2").count == 3)
        let report = try json(first.stdout)
        let panelists = try #require(report["panelists"] as? [[String: Any]])
        let m1 = try #require(panelists.first { $0["id"] as? String == "m1" })
        let m2 = try #require(panelists.first { $0["id"] as? String == "m2" })
        #expect(m2["failureRate"] as? Double == 0.3333 && m1["failureRate"] as? Double == 0)
        #expect(m1["latencyMs"] is [String: Any] && m1["inputTokens"] as? Int ?? 0 > 0)
        #expect(m1["costUSD"] as? Double ?? 0 > 0 && m2["costUSD"] is NSNull)  // m2 has no price: unknown
        let out = dir.appendingPathComponent("first.json")
        try Data(first.stdout.utf8).write(to: out)
        #expect(try validate(out).status == 0)

        // Resume asks only the failed request; the rest is stored.
        let resumed = try await CLI.run(["batches", "resume", id, "--format", "json"], environment: env)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("2 of 3 surveys complete"))
        #expect(server.requests(model: "m1").count == 3 && server.requests(model: "m2").count == 4)
        let after = try json(resumed.stdout)
        #expect((after["panelists"] as? [[String: Any]])?.allSatisfy { $0["failureRate"] as? Double == 0 } == true)

        // The same batch again: every answer from the response cache, no request sent.
        let again = try await CLI.run(["batch", file, "-m", "openai/m1", "-m", "anthropic/m2", "--quiet"], environment: env)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(server.requests(model: "m1").count == 3 && server.requests(model: "m2").count == 4)
        let list = try await CLI.run(["batches", "list"], environment: env)
        #expect(list.stdout.split(separator: "\n").count == 2)
    }

    /// An imported survey keeps its answers: `reanalyze` finds the same key points as the import's analysis
    /// (it once found no answer and stored an empty analysis over the imported one).
    @Test func anImportedSurveyKeepsItsAnswersForReanalyze() async throws {
        let db = "sqlite:" + (try CLI.temporaryFolder()).appendingPathComponent("i.sqlite").path
        let env = environment(nil, db: db)
        let imported = try await CLI.run(["batch", "--from-folders", CLI.example, "--format", "json"], environment: env)
        #expect(imported.status == 0, "\(imported.stderr)")
        let list = try await CLI.run(["surveys", "list", "--format", "json"], environment: env)
        let surveys = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
        let id = try #require(surveys.first?["id"] as? String)
        let stored = try await CLI.run(["surveys", "export", id, "--format", "json"], environment: env)
        let again = try await CLI.run(["reanalyze", id, "--format", "json"], environment: env)
        #expect(again.status == 0, "\(again.stderr)")
        let before = try json(stored.stdout), after = try json(again.stdout)
        let points = { (report: [String: Any]) in (report["keyPoints"] as? [[String: Any]])?.compactMap { $0["label"] as? String } }
        #expect(points(after)?.isEmpty == false)
        #expect(points(after) == points(before))
        let answered = (after["panelists"] as? [[String: Any]])?.filter { $0["status"] as? String == "answered" }
        #expect(answered?.count == 3)
        // There is no model to ask: resume and follow-up say so, and change nothing.
        for command in [["surveys", "resume", id], ["follow-up", id, "And juniors?"]] {
            let refused = try await CLI.run(command, environment: env)
            #expect(refused.status == 2, "\(command): \(refused.stderr)")
            #expect(refused.stderr.contains("was imported from answer folders and has no model to ask"), "\(refused.stderr)")
        }
        let shown = try await CLI.run(["surveys", "show", id, "--format", "json"], environment: env)
        #expect(shown.status == 0 && !shown.stdout.contains("And juniors?"), "the follow-up stored no turn")
        let unchanged = try await CLI.run(["surveys", "export", id, "--format", "json"], environment: env)
        #expect(points(try json(unchanged.stdout)) == points(before))
    }

    @Test func anInterruptedBatchResumesWithoutAskingAnyAnswerAgain() async throws {
        let server = try await ProviderTestServer.start()
        defer { Task { try? await server.shutdown() } }
        // "held" answers the first prompt, then waits on the second until the test opens the gate.
        server.script("held", [.answer("Use a cache for reads."), .answer("Indexes help lookups.", after: "go")])
        let rubric = "title: R\ncategories:\n  - name: C\n    items:\n      - {id: cache, text: Use a cache}\n"
        let dir = try CLI.temporaryFolder([
            "r.yaml": Data(rubric.utf8),
            "set.jsonl": Data("""
                {"id": "one", "prompt": "Should we cache?", "rubric": "r.yaml"}
                {"id": "two", "prompt": "When does an index help?"}
                {"id": "three", "prompt": "Why a queue?"}
                """.utf8),
        ])
        let env = environment(server, db: "sqlite:" + dir.appendingPathComponent("b.sqlite").path)
        let process = Process()
        process.executableURL = CLI.binary
        process.arguments = ["batch", dir.appendingPathComponent("set.jsonl").path, "-m", "openai/quick", "-m", "openai/held",
                             "--quiet"]
        process.environment = env
        let errors = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        while server.requests(model: "held").count < 2 && Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        // Prompt two's quick answer stored before the interrupt (under load it may still be on its way: then it
        // would rightly be asked again, and the counts below would not say what this test is about).
        let store = try await openStore(try DatabaseURL(parsing: env["CONVERGE_DATABASE_URL"] ?? ""))
        while Date() < deadline {
            let surveys = try await store.surveys(limit: 10, offset: 0)
            if let two = surveys.first(where: { $0.prompt == "When does an index help?" }),
               try await store.requests(surveyID: two.id).contains(where: { $0.key.panelistID == "quick" && $0.state == .answered }) {
                break
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        await store.close()
        kill(process.processIdentifier, SIGINT)
        // A batch that ignored the signal would hang the suite: it gets 30 s, then SIGKILL (and fails below).
        let killBy = Date().addingTimeInterval(30)
        while process.isRunning && Date() < killBy { try await Task.sleep(for: .milliseconds(50)) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 130, "\(stderr)")
        let id = try #require(batchID(in: stderr))
        #expect(stderr.contains("`converge batches resume \(id)` finishes it"))
        #expect(server.requests(model: "quick").count == 2 && server.requests(model: "held").count == 2)

        server.open(gate: "go")
        let resumed = try await CLI.run(["batches", "resume", id, "--format", "json"], environment: env)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("1 of 3 surveys complete"))
        // Prompt two's held request again (it was never answered) and prompt three; nothing else.
        #expect(server.requests(model: "quick").count == 3 && server.requests(model: "held").count == 4)
        let report = try json(resumed.stdout)
        let items = try #require(report["items"] as? [[String: Any]])
        #expect(items.count == 3 && items.allSatisfy { $0["answered"] as? Int == 2 })
        let panelists = try #require(report["panelists"] as? [[String: Any]])
        // The first prompt's own rubric: both covered or missed its one item, and it shows.
        #expect(panelists.allSatisfy { ($0["omissions"] as? [String: Any])?["items"] as? Int == 1 })
    }

    @Test func twoAtOnceOneProceedsAndTheOtherRefusesClearly() async throws {
        let server = try await ProviderTestServer.start()
        defer { Task { try? await server.shutdown() } }
        server.script("held", [.answer("Held until the test says so.", after: "go")])
        let dir = try CLI.temporaryFolder(["set.jsonl": Data("{\"id\":\"a\",\"prompt\":\"One?\"}\n{\"id\":\"b\",\"prompt\":\"Two?\"}\n".utf8)])
        let env = environment(server, db: "sqlite:" + dir.appendingPathComponent("b.sqlite").path)
        let file = dir.appendingPathComponent("set.jsonl").path
        let running = Task { try await CLI.run(["batch", file, "-m", "openai/held", "--quiet"], environment: env) }
        let deadline = Date().addingTimeInterval(60)
        while server.requests.isEmpty && Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        let list = try await CLI.run(["batches", "list", "--format", "json"], environment: env)
        let batches = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
        let id = try #require(batches.first?["id"] as? String)

        let second = try await CLI.run(["batches", "resume", id], environment: env)
        #expect(second.status == 2, "\(second.stderr)")
        #expect(second.stderr.contains("is being asked by process"), "\(second.stderr)")
        let deleting = try await CLI.run(["batches", "delete", id], environment: env)
        #expect(deleting.status == 2, "\(deleting.stderr)")
        server.open(gate: "go")
        let first = try await running.value
        #expect(first.status == 0, "\(first.stderr)")
        #expect(server.requests(model: "held").count == 2)
        // Once it has ended the batch is anyone's: resume finds nothing to ask.
        let after = try await CLI.run(["batches", "resume", id, "--quiet"], environment: env)
        #expect(after.status == 0 && after.stderr.contains("2 of 2 surveys complete"), "\(after.stderr)")
        #expect(server.requests(model: "held").count == 2)
    }

    // MARK: bad input

    @Test func badBatchFilesExitTwoBeforeAnyRequest() async throws {
        let server = try await ProviderTestServer.start()
        defer { Task { try? await server.shutdown() } }
        let long = String(repeating: "x", count: 256 * 1024 + 1)
        let dir = try CLI.temporaryFolder([
            "empty.jsonl": Data(),
            "broken.jsonl": Data("{\"id\": \"a\", \"prompt\": \"fine\"}\n{\"id\": \"b\", \"prompt\": unquoted}\n".utf8),
            "twice.csv": Data("id,prompt\nq,one\nq,two\n".utf8),
            "good.csv": Data("id,prompt\nq,one\n".utf8),
            "long.jsonl": Data("{\"id\": \"big\", \"prompt\": \"\(long)\"}\n".utf8),
        ])
        let dbFile = dir.appendingPathComponent("never.sqlite")
        let env = environment(server, db: "sqlite:" + dbFile.path)
        let cases: [(String, String)] = [
            ("empty.jsonl", "empty.jsonl: the batch is empty"),
            ("broken.jsonl", "broken.jsonl:2: not JSON"),
            ("twice.csv", "twice.csv:3: id: duplicate id `q` (first at "),
            ("long.jsonl", "long.jsonl:1: prompt: 262145 bytes; the limit is 262144 bytes"),
        ]
        for (name, message) in cases {
            let result = try await CLI.run(["batch", dir.appendingPathComponent(name).path, "-m", "openai/m1"],
                                           environment: env)
            #expect(result.status == 2, "\(name): \(result.stderr)")
            #expect(result.stderr.contains(message), "\(name): \(result.stderr)")
        }
        let missing = try await CLI.run(["batch", dir.appendingPathComponent("nope.jsonl").path, "-m", "openai/m1"],
                                        environment: env)
        #expect(missing.status == 2 && missing.stderr.contains("no such file"))
        // A provider without its key: refused while planning, before anything is stored.
        let noKey = try await CLI.run(["batch", dir.appendingPathComponent("good.csv").path, "-m", "gemini/x"],
                                      environment: env)
        #expect(noKey.status == 2 && noKey.stderr.contains("GEMINI_API_KEY"), "\(noKey.stderr)")
        #expect(server.requests.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: dbFile.path))
    }
}
