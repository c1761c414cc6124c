import ConvergeTestSupport
import Foundation
import Testing

/// `converge ask` end to end: the real binary against scripted providers on loopback (and, when
/// `CONVERGE_LOCAL_LLM_URL` is set, against a real small model).
@Suite struct AskCommandTests {
    /// Environment for the child: only loopback base URLs and fake keys; no real provider is reachable.
    func environment(_ server: ProviderTestServer, extra: [String: String] = [:]) -> [String: String] {
        [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
            "HOME": FileManager.default.temporaryDirectory.path,
            "XDG_CONFIG_HOME": FileManager.default.temporaryDirectory.appendingPathComponent("no-config").path,
            // Each run its own store, so that no test answers from another's response cache.
            "XDG_DATA_HOME": FileManager.default.temporaryDirectory.appendingPathComponent("converge-data-\(UUID().uuidString)").path,
            "OPENAI_API_KEY": "sk-test-secret-openai", "OPENAI_BASE_URL": server.baseURL + "/v1",
            "ANTHROPIC_API_KEY": "sk-ant-test-secret", "ANTHROPIC_BASE_URL": server.baseURL,
            "GEMINI_API_KEY": "gem-test-secret", "GEMINI_BASE_URL": server.baseURL,
        ].merging(extra) { $1 }
    }

    @Test func fivePanelistsThreeAnswerTwoFailExitThree() async throws {
        let server = try await ProviderTestServer.start()
        defer { Task { try? await server.shutdown() } }
        server.script("limited", [.status(429, retryAfter: "1"), .status(429, retryAfter: "1"),
                                  .answer("Use Redis for caching and profile slow queries.")])
        server.script("broken", [.status(500), .status(500), .status(500), .status(500)])
        server.script("stuck", [.hang, .hang, .hang])
        server.script("fast-a", [.answer("Profile slow queries first, then add Redis caching.")])
        server.script("fast-b", [.answer("Add caching with Redis. Use a CDN.")])
        let dir = try CLI.temporaryFolder()
        let output = dir.appendingPathComponent("report.json")
        let result = try await CLI.run(["ask", "How do I speed up a web service?",
                                  "-m", "openai/limited", "-m", "anthropic/broken", "-m", "gemini/stuck",
                                  "-m", "openai/fast-a", "-m", "anthropic/fast-b",
                                  "--timeout", "1", "--format", "json", "--output", output.path],
                                 environment: environment(server))
        #expect(result.status == 3, "\(result.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: output)) as? [String: Any])
        let panelists = try #require(report["panelists"] as? [[String: Any]])
        let status = Dictionary(uniqueKeysWithValues: panelists.map { ($0["id"] as! String, $0["status"] as! String) })
        #expect(status == ["limited": "answered", "broken": "failed", "stuck": "failed", "fast-a": "answered",
                           "fast-b": "answered"])
        let errors = Dictionary(uniqueKeysWithValues: panelists.map { ($0["id"] as! String, $0["error"] as? String) })
        #expect(errors["broken"]??.contains("HTTP 500") == true)
        #expect(errors["stuck"]??.contains("timed out") == true)
        #expect(server.requests(model: "limited").count == 3)
        #expect(server.requests(model: "fast-a").count == 1)
        // The report consolidates the three answers; the failures are listed on stderr too.
        let terms = try #require(report["terms"] as? [[String: Any]])
        #expect(terms.first { $0["text"] as? String == "Redis" }?["support"] as? [String] == ["limited", "fast-a", "fast-b"])
        let keyPoints = try #require(report["keyPoints"] as? [[String: Any]])
        #expect(keyPoints.allSatisfy { ($0["support"] as? [String])?.allSatisfy { ["limited", "fast-a", "fast-b"].contains($0) } == true })
        #expect(result.stderr.contains("failed"))
        for secret in ["sk-test-secret-openai", "sk-ant-test-secret", "gem-test-secret"] {
            #expect(!result.stderr.contains(secret) && !result.stdout.contains(secret))
            #expect(!(try String(contentsOf: output, encoding: .utf8)).contains(secret))
        }
    }

    @Test func followUpsCarryEachThreadAndAllAnsweredExitsZero() async throws {
        let server = try await ProviderTestServer.start()
        defer { Task { try? await server.shutdown() } }
        server.script("one", [.answer("Go is simple."), .answer("Rust is safe.")])
        server.script("two", [.answer("Go compiles fast."), .answer("Rust has no GC.")])
        let result = try await CLI.run(["ask", "Pick a language.", "--follow-up", "And a second one?",
                                  "-m", "openai/one", "-m", "openai/two", "--system", "Be brief.",
                                  "--temperature", "0.3", "--max-tokens", "64", "--samples", "1", "-f", "json",
                                  "--quiet"], environment: environment(server))
        #expect(result.status == 0, "\(result.stderr)")
        // --quiet leaves only the stored survey's id.
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].hasPrefix("converge: survey "), "\(result.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let turns = try #require(report["turns"] as? [[String: Any]])
        #expect(turns.count == 2)
        #expect((turns[1]["responses"] as? [[String: Any]])?.map { $0["text"] as? String } == ["Rust is safe.", "Rust has no GC."])
        #expect(report["prompt"] as? String == "And a second one?")
        // The follow-up went with the panelist's own thread.
        let second = try #require(server.requests(model: "one").last)
        #expect(second.messages.map(\.description) == ["system: Be brief.", "user: Pick a language.",
                                                       "assistant: Go is simple.", "user: And a second one?"])
        #expect(second.json?["temperature"]?.double == 0.3)
    }

    @Test func missingKeyFailsBeforeAnyRequestNamingTheVariable() async throws {
        let server = try await ProviderTestServer.start()
        defer { Task { try? await server.shutdown() } }
        var env = environment(server)
        env["ANTHROPIC_API_KEY"] = nil
        let result = try await CLI.run(["ask", "Hi", "-m", "openai/one", "-m", "anthropic/two"], environment: env)
        #expect(result.status == 2)
        #expect(result.stderr.contains("ANTHROPIC_API_KEY"))
        #expect(server.requests.isEmpty)
    }

    @Test func allFailedExitsFour() async throws {
        let server = try await ProviderTestServer.start()
        defer { Task { try? await server.shutdown() } }
        server.script("bad", [.status(400, message: "model not found")])
        let result = try await CLI.run(["ask", "Hi", "-m", "openai/bad", "--quiet"], environment: environment(server))
        #expect(result.status == 4, "\(result.stderr)")
        #expect(result.stdout.contains("model not found"))
        #expect(server.requests(model: "bad").count == 1)  // 400 is not retried
    }

    @Test func modelsListsProvidersAndKeyStateNeverTheKey() async throws {
        let server = try await ProviderTestServer.start()
        defer { Task { try? await server.shutdown() } }
        let result = try await CLI.run(["models"], environment: environment(server))
        #expect(result.status == 0)
        #expect(result.stdout.contains("OPENAI_API_KEY set"))
        #expect(result.stdout.contains(server.baseURL + "/v1"))
        #expect(result.stdout.contains("OPENROUTER_API_KEY not set"))
        #expect(!result.stdout.contains("sk-test-secret-openai"))
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["CONVERGE_LOCAL_LLM_URL"] != nil,
                   "set CONVERGE_LOCAL_LLM_URL (../shared/tools/local-llm start)"))
    func realLocalModelPanelOfThreeWithAFollowUp() async throws {
        let url = ProcessInfo.processInfo.environment["CONVERGE_LOCAL_LLM_URL"]!
        let dir = try CLI.temporaryFolder(["converge.yaml": Data("""
            providers:
              local:
                kind: openai
                base_url: \(url)
            panels:
              tiny:
                - {model: local/smollm2, id: cold, temperature: 0.1}
                - {model: local/smollm2, id: warm, temperature: 0.9}
                - {model: local/smollm2, id: terse, temperature: 0.5, system: Answer in one short sentence.}
            """.utf8)])
        let result = try await CLI.run(["ask", "What makes a good code review?", "--panel", "tiny",
                                  "--follow-up", "Give one more tip.", "--max-tokens", "64", "--timeout", "120",
                                  "-f", "json"], in: dir, environment: ["PATH": "/usr/bin:/bin", "HOME": dir.path])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let panelists = try #require(report["panelists"] as? [[String: Any]])
        #expect(panelists.map { $0["status"] as? String } == ["answered", "answered", "answered"])
        let turns = try #require(report["turns"] as? [[String: Any]])
        #expect(turns.count == 2)
        for turn in turns {
            let responses = try #require(turn["responses"] as? [[String: Any]])
            #expect(responses.count == 3)
            #expect(responses.allSatisfy { ($0["text"] as? String)?.isEmpty == false })
            #expect(responses.allSatisfy { ($0["outputTokens"] as? Int ?? 0) > 0 })
        }
    }

    @Test func partlyFailedSamplesAreReportedAndCountInStability() async throws {
        let server = try await ProviderTestServer.start()
        defer { Task { try? await server.shutdown() } }
        server.script("flaky", [.answer("Cache hot keys in Redis."), .status(400, message: "bad sample"),
                                .answer("Cache hot keys in Redis.")])
        server.script("steady", [.answer("Cache hot keys in Redis.")])
        let result = try await CLI.run(["ask", "Speed?", "-m", "openai/flaky", "-m", "openai/steady", "--samples", "3",
                                        "--concurrency", "1", "-f", "json", "--quiet"], environment: environment(server))
        #expect(result.status == 3, "\(result.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let flaky = try #require((report["panelists"] as? [[String: Any]])?.first { $0["id"] as? String == "flaky" })
        #expect(flaky["status"] as? String == "answered")
        #expect((flaky["error"] as? String)?.hasPrefix("1 of 3 samples failed") == true)
        let point = try #require((report["keyPoints"] as? [[String: Any]])?.first)
        #expect((point["stability"] as? [String: Double])?["flaky"] == 0.6667)
        #expect((point["stability"] as? [String: Double])?["steady"] == 1)
        server.script("flaky", [.answer("Cache hot keys in Redis."), .status(400, message: "bad sample"),
                                .answer("Cache hot keys in Redis.")])
        let markdown = try await CLI.run(["ask", "Speed?", "-m", "openai/flaky", "-m", "openai/steady", "--samples", "3",
                                          "--concurrency", "1", "--quiet"], environment: environment(server))
        #expect(markdown.stdout.contains("Partly answered:"))
        #expect(markdown.stdout.contains("· stability openai/flaky 67%, openai/steady 100%"))
    }

    @Test func blindHidesModelNamesInErrorsToo() async throws {
        let server = try await ProviderTestServer.start()
        defer { Task { try? await server.shutdown() } }
        server.script("secret-model-x", [.status(404, message: "The model `secret-model-x` does not exist")])
        server.script("b", [.answer("Fine.")])
        let result = try await CLI.run(["ask", "Hi", "-m", "openai/secret-model-x", "-m", "openai/b", "--blind",
                                        "-f", "json", "--quiet"], environment: environment(server))
        #expect(result.status == 3)
        #expect(!result.stdout.contains("secret-model-x"))
        #expect(result.stdout.contains("The model `AI 1` does not exist"))
    }

    @Test func outputIsCheckedBeforeAskingAndDevicesAreWrittenThrough() async throws {
        let server = try await ProviderTestServer.start()
        defer { Task { try? await server.shutdown() } }
        server.script("a", [.answer("Fine.")])
        let missing = try await CLI.run(["ask", "Hi", "-m", "openai/a", "-o", "/nonexistent-dir/r.md"],
                                        environment: environment(server))
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("does not exist"))
        #expect(server.requests.isEmpty)
        // A device stays a device.
        let devnull = try await CLI.run(["ask", "Hi", "-m", "openai/a", "-o", "/dev/null", "--quiet"],
                                        environment: environment(server))
        #expect(devnull.status == 0)
        let type = try FileManager.default.attributesOfItem(atPath: "/dev/null")[.type] as? FileAttributeType
        #expect(type == .typeCharacterSpecial)
        // A symbolic link is followed: the link stays, its target gets the report.
        let dir = try CLI.temporaryFolder(["target.md": Data("old".utf8)])
        let link = dir.appendingPathComponent("link.md")
        try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: "target.md")
        let linked = try await CLI.run(["ask", "Hi", "-m", "openai/a", "-o", link.path, "--quiet"],
                                       environment: environment(server))
        #expect(linked.status == 0)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link.path) == "target.md")
        #expect(try String(contentsOf: dir.appendingPathComponent("target.md"), encoding: .utf8).hasPrefix("# Converge"))
    }

    /// The wording of each range, as SurveyPlan's errors are put on the command line (ask and resume alike).
    @Test(arguments: [
        (["ask", "Hi", "-m", "openai/a", "--temperature", "2.5"], "--temperature must be a number from 0 to 2"),
        (["ask", "Hi", "-m", "openai/a", "--timeout", "0"], "--timeout must be a positive number of seconds, at most 86400"),
        (["ask", "Hi", "-m", "openai/a", "--concurrency", "0"], "--concurrency must be at least 1"),
        (["ask", "Hi", "-m", "openai/a", "--max-tokens", "0"], "--max-tokens must be at least 1"),
        (["ask", " ", "-m", "openai/a"], "the prompt is empty"),
        (["surveys", "resume", "abc", "--timeout", "86401"], "--timeout must be a positive number of seconds, at most 86400"),
    ])
    func outOfRangeSettingsSayTheirRange(arguments: [String], message: String) async throws {
        let server = try await ProviderTestServer.start()
        defer { Task { try? await server.shutdown() } }
        let result = try await CLI.run(arguments, environment: environment(server))
        #expect(result.status == 2)
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(server.requests.isEmpty)
    }

    @Test(arguments: [["--timeout", "1e308"], ["--temperature", "nan"], ["--follow-up", " "], ["--samples", "0"]])
    func outOfRangeFlagsAreUsageErrors(flags: [String]) async throws {
        let server = try await ProviderTestServer.start()
        defer { Task { try? await server.shutdown() } }
        let result = try await CLI.run(["ask", "Hi", "-m", "openai/a"] + flags, environment: environment(server))
        #expect(result.status == 2, "\(flags): \(result.stderr)")
        #expect(server.requests.isEmpty)
    }
}
