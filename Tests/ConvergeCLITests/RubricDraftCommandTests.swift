import ConvergeTestSupport
import Foundation
import Testing

/// `converge rubric draft`: a scripted model on loopback writes a rubric that `analyze --rubric` accepts.
@Suite struct RubricDraftCommandTests {
    func environment(_ server: ProviderTestServer) -> [String: String] {
        CLI.isolatedEnvironment.merging([
            "XDG_CONFIG_HOME": FileManager.default.temporaryDirectory.appendingPathComponent("no-config").path,
            "OPENAI_API_KEY": "sk-test-secret-openai", "OPENAI_BASE_URL": server.baseURL + "/v1",
        ]) { $1 }
    }

    static let rubric = """
        Here is the rubric:

        ```yaml
        title: Senior backend engineer
        categories:
          - name: Skills
            items:
              - id: languages
                text: Mastery of at least one backend language
              - id: ai-tools
                text: Using AI tools to augment the engineer's own work
          - name: Leadership
            items:
              - id: mentoring
                text: Mentoring junior engineers
        ```
        """

    @Test func aDraftedRubricIsWrittenAndAnalyzeAcceptsIt() async throws {
        let server = try await ProviderTestServer.start()
        defer { Task { try? await server.shutdown() } }
        server.script("drafter", [.answer(Self.rubric)])
        let dir = try CLI.temporaryFolder()
        let file = dir.appendingPathComponent("rubric.yaml")
        let drafted = try await CLI.run(["rubric", "draft", "What makes a senior backend engineer?", "-m", "openai/drafter",
                                         "--output", file.path], environment: environment(server))
        #expect(drafted.status == 0, "\(drafted.stderr)")
        #expect(drafted.stderr.contains("wrote 3 rubric items"))
        // The model saw the prompt and no answer.
        let request = try #require(server.requests(model: "drafter").first)
        #expect(request.messages.last?.content.contains("What makes a senior backend engineer?") == true)
        let analyzed = try await CLI.run(["analyze", CLI.example, "--similarity", "lexical", "--rubric", file.path,
                                          "-f", "json"])
        #expect(analyzed.status == 0, "\(analyzed.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(analyzed.stdout.utf8)) as? [String: Any])
        let omissions = try #require(report["omissions"] as? [[String: Any]])
        #expect(omissions.contains { $0["item"] as? String == "ai-tools" })
    }

    @Test func anInvalidReplyIsRepairedOnceAndTwiceInvalidWritesNothing() async throws {
        let server = try await ProviderTestServer.start()
        defer { Task { try? await server.shutdown() } }
        server.script("once", [.answer("title: [unclosed"), .answer(Self.rubric)])
        server.script("never", [.answer("I cannot write YAML."), .answer("categories: 3")])
        let dir = try CLI.temporaryFolder()
        let repaired = try await CLI.run(["rubric", "draft", "Q?", "-m", "openai/once"], environment: environment(server))
        #expect(repaired.status == 0, "\(repaired.stderr)")
        #expect(repaired.stdout.hasPrefix("title: Senior backend engineer\n"))
        let repair = try #require(server.requests(model: "once").last)
        #expect(repair.messages.last?.content.contains("That is not a valid rubric") == true)
        let file = dir.appendingPathComponent("never.yaml")
        let failed = try await CLI.run(["rubric", "draft", "Q?", "-m", "openai/never", "-o", file.path],
                                       environment: environment(server))
        #expect(failed.status == 3)
        #expect(failed.stderr.contains("not a valid rubric twice"))
        #expect(!FileManager.default.fileExists(atPath: file.path))
        #expect(failed.stdout.isEmpty)
    }

    @Test func aMissingKeyIsAUsageErrorBeforeAnyRequest() async throws {
        let server = try await ProviderTestServer.start()
        defer { Task { try? await server.shutdown() } }
        var env = environment(server)
        env["OPENAI_API_KEY"] = nil
        let result = try await CLI.run(["rubric", "draft", "Q?", "-m", "openai/x"], environment: env)
        #expect(result.status == 2)
        #expect(result.stderr.contains("OPENAI_API_KEY"))
        #expect(server.requests.isEmpty)
    }

    @Test func askDraftsARubricFirstAndTheSurveyKeepsIt() async throws {
        let server = try await ProviderTestServer.start()
        defer { Task { try? await server.shutdown() } }
        server.script("drafter", [.answer(Self.rubric)])
        server.script("a", [.answer("Master at least one backend language. Mentor junior engineers.")])
        let env = StoreCommandTests().environment(server, db: try StoreCommandTests.Database.sqlite.freshURL())
        let asked = try await CLI.run(["ask", "What makes a senior backend engineer?", "-m", "openai/a",
                                       "--draft-rubric", "openai/drafter", "--similarity", "lexical", "-f", "json"],
                                      environment: env)
        #expect(asked.status == 0, "\(asked.stderr)")
        #expect(asked.stderr.contains("openai/drafter drafted a rubric of 3 items"))
        let report = try #require(try JSONSerialization.jsonObject(with: Data(asked.stdout.utf8)) as? [String: Any])
        #expect((report["rubric"] as? [String: Any])?["title"] as? String == "Senior backend engineer")
        #expect((report["omissions"] as? [[String: Any]])?.contains { $0["item"] as? String == "ai-tools" } == true)
        // The drafter saw the prompt before any answer existed: its request came first.
        #expect(server.requests.first?.model == "drafter")
        let failed = try await CLI.run(["ask", "Q?", "-m", "openai/a", "--draft-rubric", "nowhere/x"], environment: env)
        #expect(failed.status == 2)
        #expect(failed.stderr.contains("--draft-rubric"))
    }
}
