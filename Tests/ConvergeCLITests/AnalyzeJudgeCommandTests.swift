import ConvergeTestSupport
import Foundation
import Testing

/// `converge analyze --judge`: the real binary, the real senior-backend answers, a scripted judge on loopback.
@Suite struct AnalyzeJudgeCommandTests {
    func environment(_ server: ProviderTestServer) -> [String: String] {
        CLI.isolatedEnvironment.merging([
            "XDG_CONFIG_HOME": FileManager.default.temporaryDirectory.appendingPathComponent("no-config").path,
            "OPENAI_API_KEY": "sk-test-secret-openai", "OPENAI_BASE_URL": server.baseURL + "/v1",
        ]) { $1 }
    }

    static func json(_ object: [String: Any]) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: object), as: UTF8.self)
    }

    /// The judge does not know which label is which file: it cites the same book title for all three, which two
    /// answers name; and it names AI tools, which none mentions, and mentoring, which two do.
    static let reply = json([
        "consensus": [["point": "Read Designing Data-Intensive Applications", "supporters": [
            ["panelist": "AI 1", "quote": "Designing Data-Intensive Applications"],
            ["panelist": "AI 2", "quote": "Designing Data-Intensive Applications"],
            ["panelist": "AI 3", "quote": "Designing Data-Intensive Applications"]]]],
        "blindSpots": [["point": "Using AI tools to augment the engineer's own work"],
                       ["point": "Mentoring junior developers"]],
        // kp-1 of the example with lexical matching is the languages point (Go, Java, Python).
        "synthesis": [["sentence": "A senior engineer <script>alert(1)</script> knows languages like Go and leads by design.",
                       "keyPoints": ["kp-1"]]],
    ])

    @Test func theJudgesVerifiedClaimsReachTheReportAndItsBlindSpotBecomesAnOmission() async throws {
        let server = try await ProviderTestServer.start()
        defer { Task { try? await server.shutdown() } }
        server.script("judge", [.answer(Self.reply)])
        let dir = try CLI.temporaryFolder()
        let output = dir.appendingPathComponent("report.json")
        let result = try await CLI.run(["analyze", CLI.example, "--no-rubric", "--similarity", "lexical",
                                        "--judge", "openai/judge", "-f", "json", "-o", output.path],
                                       environment: environment(server))
        #expect(result.status == 0, "\(result.stderr)")
        let data = try Data(contentsOf: output)
        let report = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let judge = try #require(report["judge"] as? [String: Any])
        #expect(judge["status"] as? String == "verified")
        #expect(judge["model"] as? String == "openai/judge")
        let consensus = try #require(judge["consensus"] as? [[String: Any]])
        #expect(consensus.first?["support"] as? [String] == ["ai-1", "ai-2"])
        #expect(consensus.first?["removedSupport"] as? [String] == ["ai-3"])
        let omissions = try #require(report["omissions"] as? [[String: Any]])
        #expect(omissions.map { $0["text"] as? String } == ["Using AI tools to augment the engineer's own work"])
        let dropped = try #require(judge["dropped"] as? [[String: Any]])
        #expect(dropped.map { $0["kind"] as? String } == ["blindSpot"])
        #expect((dropped.first?["reason"] as? String)?.hasPrefix("covered by ai-") == true)
        // Schema and every quote's offsets, the judge's included.
        let check = try await CLI.run(["python3", "scripts/check-report.py", "schema/report-v1.json", output.path, CLI.example],
                                environment: ProcessInfo.processInfo.environment,
                                executable: URL(fileURLWithPath: "/usr/bin/env"))
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        #expect(check.stdout.contains("ok:"))
        // No key anywhere the user sees, nor in what the judge was sent.
        for text in [String(decoding: data, as: UTF8.self), result.stderr] { #expect(!text.contains("sk-test-secret")) }
        let sent = try #require(server.requests(model: "judge").first)
        #expect(!(sent.messages.map(\.content).joined().contains("sk-test-secret")))
    }

    @Test func markdownShowsTheSynthesisAsTextAndTheBlindSpotWithTheOmissions() async throws {
        let server = try await ProviderTestServer.start()
        defer { Task { try? await server.shutdown() } }
        server.script("judge", [.answer(Self.reply)])
        let result = try await CLI.run(["analyze", CLI.example, "--no-rubric", "--similarity", "lexical",
                                        "--judge", "openai/judge"], environment: environment(server))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("## Synthesis (judge: openai/judge)"))
        #expect(result.stdout.contains("\\<script\\>alert\\(1\\)\\</script\\>"))
        #expect(!result.stdout.contains("engineer <script>"))
        #expect(result.stdout.contains("## Omissions"))
        #expect(result.stdout.contains("Using AI tools to augment the engineer's own work (`judge-1`)"))
        #expect(result.stdout.contains("## The judge's claims (their quotes found in the answers)"))
    }

    @Test func aFailingJudgeLeavesTheReportWholeAndExitsZero() async throws {
        let server = try await ProviderTestServer.start()
        defer { Task { try? await server.shutdown() } }
        server.script("judge", [.status(400, message: "bad request")])
        let dir = try CLI.temporaryFolder()
        let judged = dir.appendingPathComponent("judged.json"), plain = dir.appendingPathComponent("plain.json")
        let result = try await CLI.run(["analyze", CLI.example, "--similarity", "lexical", "--judge", "openai/judge",
                                        "-f", "json", "-o", judged.path], environment: environment(server))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("the judge failed: HTTP 400"))
        let without = try await CLI.run(["analyze", CLI.example, "--similarity", "lexical", "-f", "json", "-o", plain.path])
        #expect(without.status == 0)
        var report = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: judged)) as? [String: Any])
        let judge = try #require(report.removeValue(forKey: "judge") as? [String: Any])
        #expect(judge["status"] as? String == "failed")
        let expected = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: plain)) as? [String: Any])
        #expect(NSDictionary(dictionary: report).isEqual(to: expected))
    }

    @Test func badJudgeSpecsAreUsageErrorsNamingTheOption() async throws {
        let server = try await ProviderTestServer.start()
        defer { Task { try? await server.shutdown() } }
        let noSlash = try await CLI.run(["analyze", CLI.example, "--similarity", "lexical", "--judge", "gpt-4o"],
                                        environment: environment(server))
        #expect(noSlash.status == 2)
        #expect(noSlash.stderr.contains("--judge"))
        #expect(noSlash.stdout.isEmpty)
        var env = environment(server)
        env["OPENAI_API_KEY"] = nil
        let noKey = try await CLI.run(["analyze", CLI.example, "--similarity", "lexical", "--judge", "openai/judge"],
                                      environment: env)
        #expect(noKey.status == 2)
        #expect(noKey.stderr.contains("OPENAI_API_KEY"))
        let stray = try await CLI.run(["analyze", CLI.example, "--judge-timeout", "5"], environment: env)
        #expect(stray.status == 2)
        #expect(stray.stderr.contains("--judge"))
        #expect(server.requests.isEmpty)
    }

    @Test func theJudgeAndTheRubricDrafterTakeTheConfigsMaxAttempts() async throws {
        // Found by a fresh-user pass: with `max_attempts: 1` the judge still sent four requests.
        let server = try await ProviderTestServer.start()
        defer { Task { try? await server.shutdown() } }
        server.script("judge", Array(repeating: .status(500, message: "down"), count: 8))
        server.script("drafter", Array(repeating: .status(500, message: "down"), count: 8))
        let dir = try CLI.temporaryFolder(["converge.yaml": Data("max_attempts: 1\n".utf8)])
        let config = dir.appendingPathComponent("converge.yaml").path
        let judged = try await CLI.run(["analyze", CLI.example, "--no-rubric", "--similarity", "lexical", "--judge", "openai/judge",
                                        "--config", config, "-f", "json"], environment: environment(server))
        #expect(judged.status == 0, "\(judged.stderr)")
        #expect(server.requests(model: "judge").count == 1)
        let drafted = try await CLI.run(["rubric", "draft", "What makes a senior engineer?", "-m", "openai/drafter",
                                         "--config", config], environment: environment(server))
        #expect(drafted.status == 3, "\(drafted.stderr)")
        #expect(server.requests(model: "drafter").count == 1)
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["CONVERGE_LOCAL_LLM_URL"] != nil,
                   "set CONVERGE_LOCAL_LLM_URL (../shared/tools/local-llm start)"))
    func aRealSmallModelAsJudgeNeverGetsUnverifiedClaimsIntoTheReport() async throws {
        let url = ProcessInfo.processInfo.environment["CONVERGE_LOCAL_LLM_URL"]!
        let dir = try CLI.temporaryFolder(["converge.yaml": Data("""
            providers:
              local:
                kind: openai
                base_url: \(url)
            """.utf8)])
        let output = dir.appendingPathComponent("report.json")
        let result = try await CLI.run(["analyze", CLI.example, "--no-rubric", "--similarity", "lexical",
                                        "--judge", "local/smollm2", "--judge-max-tokens", "256", "--judge-timeout", "180",
                                        "--config", dir.appendingPathComponent("converge.yaml").path,
                                        "-f", "json", "-o", output.path],
                                       environment: CLI.isolatedEnvironment.merging(["HOME": dir.path]) { $1 })
        #expect(result.status == 0, "\(result.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: output)) as? [String: Any])
        let judge = try #require(report["judge"] as? [String: Any])
        #expect(["verified", "failed"].contains(judge["status"] as? String))
        // Valid against the schema, and every quote the judge section shows stands in its answer at its offsets.
        let check = try await CLI.run(["python3", "scripts/check-report.py", "schema/report-v1.json", output.path, CLI.example],
                                      environment: ProcessInfo.processInfo.environment,
                                      executable: URL(fileURLWithPath: "/usr/bin/env"))
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        let ids = Set((report["keyPoints"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String })
        for claim in judge["consensus"] as? [[String: Any]] ?? [] {
            #expect((claim["support"] as? [String] ?? []).count >= 2)
        }
        for claim in (judge["consensus"] as? [[String: Any]] ?? []) + (judge["unique"] as? [[String: Any]] ?? []) {
            #expect((claim["evidence"] as? [Any] ?? []).count >= 1)
        }
        for sentence in judge["synthesis"] as? [[String: Any]] ?? [] {
            let cited = sentence["keyPoints"] as? [String] ?? []
            #expect(!cited.isEmpty && cited.allSatisfy(ids.contains))
        }
    }
}
