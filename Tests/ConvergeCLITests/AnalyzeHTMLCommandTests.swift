import Foundation
import Testing

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
}
