import ConvergeTestSupport
import Foundation
import Testing

/// `--format html` from the command line: `analyze` attaches the answers to the page, `ask` has them in its turns.
@Suite struct AnalyzeHTMLCommandTests {
    @Test func writesTheExampleAsOneHTMLPageWithTheAnswers() throws {
        let result = try CLI.run(["analyze", CLI.example, "--format", "html"])
        #expect(result.status == 0, "\(result.stderr)")
        let html = result.stdout
        #expect(html.hasPrefix("<!DOCTYPE html>\n"))
        #expect(html.contains("<span class=\"lead\">Nobody mentioned:</span> <strong>AI in the workflow</strong>"))
        // The answers are attached for the page: three full answers with highlighted quotes.
        for p in 0..<3 { #expect(html.contains("<article class=\"answer\" id=\"answer-\(p)-0\">")) }
        #expect(html.contains("<mark class=\"lvl-"))
        // The JSON of analyze is unchanged: no turns.
        let json = try CLI.run(["analyze", CLI.example, "--format", "json"])
        #expect(!json.stdout.contains("\"turns\""))
    }

    @Test func blindHTMLHidesFileNamesButKeepsTheAnswers() throws {
        let dir = try CLI.temporaryFolder([
            "gpt-4o.md": Data("Use PostgreSQL for relational data. Add Redis for caching.".utf8),
            "claude-sonnet.md": Data("PostgreSQL is the safe default. Redis helps with caching.".utf8),
            "prompt.md": Data("Which database?".utf8),
        ])
        let output = dir.appendingPathComponent("report.html")
        let result = try CLI.run(["analyze", dir.path, "--blind", "-f", "html", "-o", output.path])
        #expect(result.status == 0, "\(result.stderr)")
        let html = try String(contentsOf: output, encoding: .utf8)
        #expect(!html.contains("gpt-4o") && !html.contains("claude"))
        #expect(html.contains("<bdi>AI 1</bdi>") && html.contains("<bdi>AI 2</bdi>"))
        #expect(html.contains(">Use PostgreSQL for relational data</mark>"))
        #expect(html.contains("<article class=\"answer\" id=\"answer-1-0\">"))
    }

    @Test func askWritesAPageWithTheAnswersAndTheFailureBlind() async throws {
        let server = try await ProviderTestServer.start()
        defer { Task { try? await server.shutdown() } }
        server.script("fast-a", [.answer("Profile slow queries first, then add Redis caching.")])
        server.script("fast-b", [.answer("Add caching with Redis. Use a CDN.")])
        server.script("broken", [.status(400)])
        let dir = try CLI.temporaryFolder()
        let output = dir.appendingPathComponent("report.html")
        let environment = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
            "HOME": dir.path, "XDG_CONFIG_HOME": dir.appendingPathComponent("no-config").path,
            "OPENAI_API_KEY": "sk-test-secret-openai", "OPENAI_BASE_URL": server.baseURL + "/v1",
        ]
        let result = try await CLI.run(["ask", "How do I speed up a web service?", "-m", "openai/fast-a",
                                        "-m", "openai/fast-b", "-m", "openai/broken", "--blind", "--quiet",
                                        "--format", "html", "--output", output.path], environment: environment)
        #expect(result.status == 3, "\(result.stderr)")
        let html = try String(contentsOf: output, encoding: .utf8)
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.contains("<article class=\"answer\" id=\"answer-0-0\">"))
        #expect(html.contains("<article class=\"answer\" id=\"answer-1-0\">"))
        #expect(!html.contains("id=\"answer-2-0\""))
        #expect(html.contains("<span class=\"status failed\">failed</span>") && html.contains("HTTP 400"))
        #expect(html.contains("Redis"))
        for leak in ["fast-a", "fast-b", "broken", "openai", "sk-test-secret"] { #expect(!html.contains(leak), "leaks \(leak)") }
    }
}
