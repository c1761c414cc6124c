import ConvergeCore
import ConvergeReport
import Foundation
import Testing

/// A report with a judge section, rendered and blinded.
@Suite struct JudgeRenderingTests {
    let fixture: SeniorBackend
    let report: Report

    init() throws {
        fixture = try SeniorBackend()
        var report = try fixture.report()
        report.panelists[1].model = "openai/gpt-4o"
        let mentorship = Report.JudgeClaim(
            text: "Mentoring <b>juniors</b>", support: ["ai-1", "ai-2"],
            evidence: [try fixture.evidence("ai-1", "mentorship"), try fixture.evidence("ai-2", "mentoring junior developers")],
            removedSupport: ["ai-3"], keyPoint: report.keyPoints[0].id, agreesWithMatcher: false)
        report.judge = Report.Judge(
            model: "openai/gpt-4o", status: .verified, onPanel: true, attempts: 1, latencyMs: 1200,
            consensus: [mentorship],
            contradictions: [.init(topic: "Years", sides: [
                .init(panelist: "ai-1", stance: "5+", evidence: try fixture.evidence("ai-1", "5+ years of dedicated experience")),
                .init(panelist: "ai-2", stance: "5-8+", evidence: try fixture.evidence("ai-2", "5-8+ years of experience"))])],
            synthesis: [.init(text: "Seniors <script>x()</script> design and mentor; gpt-4o says so.",
                              keyPoints: [report.keyPoints[0].id])],
            dropped: [.init(kind: .blindSpot, text: "Mentoring", reason: "covered by openai/gpt-4o: “mentoring”")])
        self.report = report
    }

    @Test func jsonKeepsTheJudgeSectionAndPassesTheSchema() throws {
        let json = JSONRenderer.render(report)
        let decoded = try JSONDecoder().decode(Report.self, from: Data(json.utf8))
        #expect(decoded.judge == report.judge)
        let check = try checkReport(json)
        #expect(check.status == 0, "\(check.output)")
    }

    @Test func htmlShowsTheSynthesisLinkedToKeyPointsAndEscapesTheJudge() {
        let html = HTMLRenderer.render(report)
        #expect(html.contains("<section id=\"judge\">"))
        #expect(html.contains("href=\"#kp-1\""))
        #expect(html.contains("&lt;script&gt;x()&lt;/script&gt;"))
        #expect(!html.contains("<script>x()"))
        #expect(html.contains("Mentoring &lt;b&gt;juniors&lt;/b&gt;"))
        #expect(html.contains("<section id=\"contradictions\">"))
        #expect(html.contains("(the matcher's support differs)"))
    }

    @Test func blindingMapsTheJudgesPanelistsAndNamesAJudgeOnThePanelByItsLabel() throws {
        let blind = report.blinded()
        let judge = try #require(blind.judge)
        #expect(judge.model == "AI 2")
        #expect(judge.consensus[0].support == ["ai-1", "ai-2"])
        #expect(!judge.synthesis[0].text.contains("gpt-4o"))
        #expect(!judge.dropped[0].reason.contains("gpt-4o"))
        #expect(!JSONRenderer.render(blind).contains("gpt-4o"))
    }

    @Test func theJudgesWordsCannotMakeMarkdown() {
        var hostile = report
        hostile.judge?.synthesis = [.init(text: "See [click](javascript:alert(1)) ![t](http://x.example/p.png) `c` <u>x</u>",
                                          keyPoints: [report.keyPoints[0].id])]
        let markdown = MarkdownRenderer.render(hostile)
        #expect(markdown.contains("See \\[click\\]\\(javascript:alert\\(1\\)\\) \\!\\[t\\]"))
        #expect(!markdown.contains("[click]("))
        #expect(!markdown.contains("`c`"))
    }

    @Test func aBlindSpotIsTheJudgesWordsInTheOmissionsToo() {
        // Found by a fresh-user pass: the omissions list showed a blind spot's Markdown live.
        var hostile = report
        let text = "**AI** `tools` [link](http://evil.example/x) ![img](http://evil.example/i.png)"
        hostile.judge?.blindSpots = [.init(text: text, item: "judge-1")]
        hostile.omissions = [.init(item: "judge-1", category: "Blind spots (judge)", text: text)]
        let markdown = MarkdownRenderer.render(hostile)
        #expect(markdown.contains("\\*\\*AI\\*\\* \\`tools\\` \\[link\\]\\(http://evil.example/x\\)"), "\(markdown)")
        #expect(!markdown.contains("[link](") && !markdown.contains("![img]("))
        let html = HTMLRenderer.render(hostile)
        #expect(html.contains("No panelist makes this point:"))
        #expect(!html.contains("this rubric item"))
    }

    @Test func aFailedJudgeIsOneLineInMarkdown() {
        var failed = report
        failed.judge = Report.Judge(model: "openai/judge", status: .failed, error: "HTTP 500",
                                    onPanel: false, attempts: 1)
        let markdown = MarkdownRenderer.render(failed)
        #expect(markdown.contains("**Judge** (judge: openai/judge) failed: HTTP 500."))
        #expect(!markdown.contains("## Synthesis"))
    }
}
