import ConvergeCore
import Foundation
import Testing

@testable import ConvergeReport

@Suite struct MarkdownRendererTests {
    func lines(_ markdown: String) -> [String] {
        markdown.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    /// Index of the first line equal to `line`, failing the test when there is none.
    func index(of line: String, in lines: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> Int {
        try #require(lines.firstIndex(of: line), "missing line: \(line)", sourceLocation: sourceLocation)
    }

    @Test func fillerIsCountedNotListedAsPoints() throws {
        let fixture = try SeniorBackend()
        var report = try fixture.report()
        #expect(!MarkdownRenderer.render(report).contains("Set aside as filler"))
        report.filler = [
            .init(evidence: try fixture.evidence("ai-1", "To be a Senior Backend Software Engineer means"), reason: "introduction"),
            .init(evidence: try fixture.evidence("ai-2", "Beyond pure coding skills"), reason: "transition"),
            .init(evidence: try fixture.evidence("ai-2", "Most importantly"), reason: "transition"),
        ]
        let md = MarkdownRenderer.render(report)
        #expect(lines(md).contains("Set aside as filler (no point made; listed in the JSON report): 1 introduction, 2 transition."))
    }

    @Test func sectionsAppearInOrder() throws {
        let report = try SeniorBackend().report()
        let md = MarkdownRenderer.render(report)
        let all = lines(md)
        #expect(md.hasSuffix("\n") && !md.hasSuffix("\n\n"))
        let headings = all.filter { $0.hasPrefix("#") }
        #expect(headings == [
            "# Converge report",
            "## Key points",
            "### Experience",
            "### Technical expertise",
            "### Leadership and mentorship",
            "### Essential knowledge and books",
            "### Other points",
            "## Terms",
            "## Conflicts",
            "### Years of experience",
            "## Rubric coverage — Senior backend software engineer",
            "## Omissions",
        ])
        #expect(all[2] == "> " + report.prompt!)
        let summary = "**Panel:** AI 1, AI 2, AI 3 · 3 of 3 answered · convergence index "
            + String(format: "%.2f", report.convergence.index)
            + " · 6 key points (1 unanimous, 4 majority, 0 split, 1 unique)"
        #expect(all[4] == summary)
        #expect(all.last(where: { !$0.isEmpty }) == "_Similarity: lexical · 23 statements · engine converge-lexical-1_")
        #expect(!md.contains("Consensus needs at least two answers"))
        #expect(!md.contains("Failed panelists"))
    }

    @Test func keyPointsShowSupportConsensusAndOneQuotePerPanelist() throws {
        let report = try SeniorBackend().report()
        let all = lines(MarkdownRenderer.render(report))
        let years = try index(of: "- **5+ years of experience** — 2/3 · majority · AI 1, AI 3", in: all)
        #expect(all[years + 1] == "  - AI 1: “typically backed by 5+ years of dedicated experience”")
        #expect(all[years + 2] == "  - AI 3: “having 5+ years of experience”")
        #expect(all[years - 2] == "### Experience")

        let languages = try index(of: "- **Backend languages such as Go, Java and Python** — 3/3 · unanimous · AI 1, AI 2, AI 3",
                                  in: all)
        #expect(all[languages + 2] == "  - AI 2: “mastery of backend languages like Java, Python, Go, or C#”")
        // Cloud follows languages inside "Technical expertise" (categories in order of first appearance).
        #expect(all[languages + 4] == "- **Cloud platforms: AWS, Azure, GCP** — 2/3 · majority · AI 1, AI 2")

        // Mentoring has two quotes from AI 2: only the first is shown.
        let mentoring = try index(of: "- **Mentoring** — 2/3 · majority · AI 1, AI 2", in: all)
        let quotes = all[(mentoring + 1)...].prefix { $0.hasPrefix("  - ") }
        #expect(quotes.count == 2)
        #expect(quotes.last == "  - AI 2: “Their role extends into mentoring junior developers”")

        let other = try index(of: "### Other points", in: all)
        #expect(all[other + 2] == "- **Domain-Driven Design** — 1/3 · unique · AI 3")
    }

    @Test func longQuotesAreShortenedAtAWordBoundary() throws {
        let report = try SeniorBackend().report()
        let original = report.keyPoints[2].evidence[0].quote
        #expect(original.count > MarkdownRenderer.quoteLimit)
        let all = lines(MarkdownRenderer.render(report))
        let line = try #require(all.first { $0.hasPrefix("  - AI 1: “Beyond coding") })
        #expect(line.hasSuffix("…”"))
        let shown = String(line.dropFirst("  - AI 1: “".count).dropLast("…”".count))
        #expect(shown.count <= MarkdownRenderer.quoteLimit && shown.count >= MarkdownRenderer.quoteLimit / 2)
        #expect(original.hasPrefix(shown))
        // Cut at a word boundary: the original continues with a space (or punctuation and a space).
        let rest = original.dropFirst(shown.count)
        #expect(rest.first == " " || rest.hasPrefix(", "))
    }

    @Test func termsTableAndConflicts() throws {
        let report = try SeniorBackend().report()
        let all = lines(MarkdownRenderer.render(report))
        let header = try index(of: "| term | kind | support | panelists |", in: all)
        #expect(all[header + 1] == "|---|---|---|---|")
        #expect(Array(all[(header + 2)...].prefix { $0.hasPrefix("|") }) == [
            "| Go | name | 3/3 | AI 1, AI 2, AI 3 |",
            "| AWS | name | 2/3 | AI 1, AI 2 |",
            "| Designing Data-Intensive Applications | title | 2/3 | AI 1, AI 2 |",
            "| 5+ years | quantity | 2/3 | AI 1, AI 3 |",
            "| C# | name | 1/3 | AI 2 |",
        ])
        let topic = try index(of: "### Years of experience", in: all)
        #expect(Array(all[(topic + 2)...(topic + 4)]) == [
            "- AI 1: **5+ years** — “5+ years of dedicated experience”",
            "- AI 2: **5-8+ years** — “5-8+ years of experience”",
            "- AI 3: **5+ years** — “5+ years of experience”",
        ])
    }

    @Test func rubricCoverageAndOmissions() throws {
        let report = try SeniorBackend().report()
        let md = MarkdownRenderer.render(report)
        let all = lines(md)
        let title = try index(of: "## Rubric coverage — Senior backend software engineer", in: all)
        #expect(Array(all[(title + 2)...].prefix { $0.hasPrefix("|") }) == [
            "| category | item | AI 1 | AI 2 | AI 3 | support |",
            "|---|---|:-:|:-:|:-:|---|",
            "| Experience | Five or more years of professional backend experience | ✓ | ✓ | ✓ | 3/3 |",
            "| Technical expertise | Caching strategies |  | ✓ |  | 1/3 |",
            "| Technical expertise | Messaging systems |  |  | ✓ | 1/3 |",
            "| AI in the workflow | Using AI tools to augment the engineer's own work |  |  |  | 0/3 |",
        ])
        let omissions = try index(of: "## Omissions", in: all)
        #expect(all[omissions + 2] == "No panelist makes these points:")
        #expect(all[omissions + 4] == "- **AI in the workflow**: Using AI tools to augment the engineer's own work (`ai-tools`)")

        var covered = report
        covered.omissions = []
        #expect(MarkdownRenderer.render(covered).contains(
            "## Omissions\n\nEvery rubric item is covered by at least one panelist.\n"))

        var noRubric = report
        noRubric.rubric = nil
        noRubric.omissions = []
        noRubric.conflicts = []
        let plain = MarkdownRenderer.render(noRubric)
        #expect(!plain.contains("## Rubric coverage"))
        #expect(!plain.contains("## Omissions"))
        #expect(!plain.contains("## Conflicts"))
        #expect(plain.contains("## Terms"))
    }

    /// Number of `|` not preceded by a backslash: the column separators GFM sees.
    func separators(_ row: String) -> Int {
        var count = 0
        var previous: Character = " "
        for character in row {
            if character == "|" && previous != "\\" { count += 1 }
            previous = character
        }
        return count
    }

    @Test func tableCellsEscapePipesAndFoldLineBreaks() throws {
        var report = try SeniorBackend().report()
        report.terms[0].text = "REST|gRPC"
        report.terms[1].text = "two\nlines\r\nhere"
        report.rubric!.items[1].text = "Caching | eviction\n| x | y |\n# not a heading"
        report.panelists[0].label = "AI|1"
        let md = MarkdownRenderer.render(report)
        let all = lines(md)
        #expect(all.contains("| REST\\|gRPC | name | 3/3 | AI\\|1, AI 2, AI 3 |"))
        #expect(all.contains("| two lines here | name | 2/3 | AI\\|1, AI 2 |"))
        #expect(all.contains("| Technical expertise | Caching \\| eviction \\| x \\| y \\| # not a heading |  | ✓ |  | 1/3 |"))
        // Every row of each table has exactly as many column separators as its header.
        for table in ["| term |", "| category |"] {
            let header = try #require(all.firstIndex { $0.hasPrefix(table) })
            let rows = all[header...].prefix { $0.hasPrefix("|") }
            for row in rows { #expect(separators(row) == separators(all[header]), "\(row)") }
        }
        #expect(!all.contains { $0.hasPrefix("# not") })
    }

    @Test func answerTextCannotInjectMarkdownBlocks() throws {
        var report = try SeniorBackend().report()
        report.keyPoints[0].evidence[0].quote = "5+ years\n# Injected heading\n\n- injected item\n<div>raw</div>"
        report.keyPoints[0].label = "Years\n## Injected"
        report.conflicts[0].topic = "Years #"
        report.conflicts[0].values[0].value = "5+ *years*"
        let md = MarkdownRenderer.render(report)
        let all = lines(md)
        #expect(!all.contains { $0.hasPrefix("# Injected") || $0.hasPrefix("## Injected") || $0.hasPrefix("- injected") })
        #expect(all.contains("  - AI 1: “5+ years # Injected heading - injected item \\<div>raw\\</div>”"))
        #expect(all.contains("- **Years ## Injected** — 2/3 · majority · AI 1, AI 3"))
        #expect(all.contains("### Years \\#"))
        #expect(all.contains("- AI 1: **5+ \\*years\\*** — “5+ years of dedicated experience”"))
    }

    @Test func withoutCategoriesKeyPointsAreGroupedByConsensus() throws {
        var report = try SeniorBackend().report()
        for i in report.keyPoints.indices { report.keyPoints[i].category = nil }
        let headings = lines(MarkdownRenderer.render(report)).filter { $0.hasPrefix("### ") }
        #expect(headings == ["### Unanimous", "### Majority", "### Unique", "### Years of experience"])
    }

    @Test func fewerThanTwoAnswersAndFailuresAreSaidPlainly() throws {
        var report = minimalReport(answered: 1, failed: 1)
        report.panelists[0].model = "anthropic/claude-sonnet-4-5"
        let md = MarkdownRenderer.render(report)
        let all = lines(md)
        #expect(all.contains("**Panel:** P1 (anthropic/claude-sonnet-4-5), F1 (openai/gpt-4o) · 1 of 2 answered"
            + " · convergence index 0.00 · 1 key point (0 unanimous, 0 majority, 0 split, 1 unique)"))
        #expect(md.contains("Consensus needs at least two answers"))
        #expect(all.contains("- **F1** (openai/gpt-4o): HTTP 429: rate limited retry after 20 s"))
        #expect(!md.contains("\n> "))  // no prompt

        let none = MarkdownRenderer.render(minimalReport(answered: 0, failed: 2))
        #expect(none.contains("0 of 2 answered"))
        #expect(none.contains("consensus needs at least two answers"))
        #expect(none.contains("No key points."))
        #expect(none.contains("No terms."))

        let two = MarkdownRenderer.render(minimalReport(answered: 2))
        #expect(!two.lowercased().contains("consensus needs at least two answers"))
    }

    @Test func multiLinePromptIsOneBlockquote() throws {
        var report = minimalReport()
        report.prompt = "  First line\n\n# Not a heading of the report\r\nlast  \n"
        let all = lines(MarkdownRenderer.render(report))
        #expect(Array(all[2...5]) == ["> First line", ">", "> # Not a heading of the report", "> last"])
        #expect(all[6] == "")
    }

    @Test func analysisFooter() {
        var report = minimalReport()
        report.analysis = .init(engine: "lexical_v1", similarity: "lexical", statements: 1, blind: true)
        let all = lines(MarkdownRenderer.render(report))
        #expect(all.suffix(2) == ["_Similarity: lexical · 1 statement · engine lexical\\_v1 · blind labels_", ""])
        report.analysis = nil
        #expect(!MarkdownRenderer.render(report).contains("Similarity:"))
    }

    @Test func renderingIsDeterministic() throws {
        let report = try SeniorBackend().report()
        #expect(MarkdownRenderer.render(report) == MarkdownRenderer.render(try SeniorBackend().report()))
        #expect(ReportRenderer.render(report, format: .md) == MarkdownRenderer.render(report))
    }

    @Test func formatNames() {
        #expect(ReportFormat(rawValue: "md") == .md)
        #expect(ReportFormat(rawValue: "markdown") == .md)
        #expect(ReportFormat(rawValue: "Markdown") == .md)
        #expect(ReportFormat(rawValue: "json") == .json)
        #expect(ReportFormat(rawValue: "csv") == .csv)
        #expect(ReportFormat(rawValue: "HTML") == .html)
        #expect(ReportFormat(rawValue: "htm") == .html)
        #expect(ReportFormat(rawValue: "pdf") == nil)
        #expect(ReportFormat.allCases.map(\.rawValue) == ["md", "json", "csv", "html"])
        #expect(ReportFormat.html.mediaType == "text/html; charset=utf-8")
    }
}
