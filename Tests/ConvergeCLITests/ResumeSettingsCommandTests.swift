import ConvergeTestSupport
import Foundation
import Testing

/// `converge surveys resume` takes the config file's settings as `ask` does.
@Suite struct ResumeSettingsCommandTests {
    @Test func resumeTakesTheConfigsMaxAttempts() async throws {
        // Found by a fresh-user pass: with `max_attempts: 1`, resume asked a failing panelist four times.
        let server = try await ProviderTestServer.start()
        defer { Task { try? await server.shutdown() } }
        server.script("a", [.answer("Write tests first.")])
        server.script("down", Array(repeating: .status(500, message: "down"), count: 12))
        let store = StoreCommandTests()
        let env = store.environment(server, db: try StoreCommandTests.Database.sqlite.freshURL())
        let dir = try CLI.temporaryFolder(["converge.yaml": Data("max_attempts: 1\n".utf8)])
        let config = dir.appendingPathComponent("converge.yaml").path
        let asked = try await CLI.run(["ask", "Q?", "-m", "openai/a", "-m", "openai/down", "--similarity", "lexical",
                                       "--config", config, "--quiet"], environment: env)
        #expect(asked.status == 3, "\(asked.stderr)")
        #expect(server.requests(model: "down").count == 1)
        let id = try #require(store.surveyID(in: asked.stderr))
        let resumed = try await CLI.run(["surveys", "resume", id, "--similarity", "lexical", "--config", config, "--quiet"],
                                        environment: env)
        #expect(resumed.status == 3, "\(resumed.stderr)")
        #expect(server.requests(model: "down").count == 2, "one more attempt, not four")
        #expect(server.requests(model: "a").count == 1, "the stored answer is not asked again")
    }
}
