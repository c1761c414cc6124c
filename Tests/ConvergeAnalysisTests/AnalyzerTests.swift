import ConvergeAnalysis
import ConvergeCore
import Testing

@Suite struct AnalyzerTests {
    func answer(_ id: String, _ text: String, model: String? = nil) -> Answer {
        Answer(panelist: Panelist(id: id, model: model), text: text)
    }

    @Test func paraphrasedListItemsJoinAcrossAnswers() throws {
        let input = AnalysisInput(prompt: "How do I speed up a web service?", answers: [
            answer("a", "- Add a caching layer with Redis.\n- Profile the slow database queries."),
            answer("b", "1. Profile slow database queries first.\n2. Use a CDN for static assets."),
            answer("c", "Put Redis in front as a caching layer. Then scale horizontally."),
        ], rubric: nil)
        let report = Analyzer().analyze(input)
        let caching = try #require(report.keyPoints.first { $0.evidence.contains { $0.quote.contains("caching") } })
        #expect(caching.support == ["a", "c"])
        #expect(caching.consensus == .majority)
        let profile = try #require(report.keyPoints.first { $0.evidence.contains { $0.quote.contains("Profile") } })
        #expect(profile.support == ["a", "b"])
        let cdn = try #require(report.keyPoints.first { $0.evidence.contains { $0.quote.contains("CDN") } })
        #expect(cdn.consensus == .unique)
        #expect(report.terms.first { $0.text == "Redis" }?.support == ["a", "c"])
        #expect(invariantViolations(report) == [])
    }

    @Test func samplesOfOnePanelistCountOnce() {
        let input = AnalysisInput(prompt: nil, answers: [
            answer("a", "Use Redis for caching hot keys."),
            answer("a", "Redis caching of hot keys helps."),
            answer("b", "Cache hot keys in Redis."),
        ], rubric: nil)
        let report = Analyzer().analyze(input)
        #expect(report.panelists.map(\.id) == ["a", "b"])
        #expect(report.keyPoints.allSatisfy { Set($0.support).count == $0.support.count })
        #expect(report.terms.first { $0.text == "Redis" }?.support == ["a", "b"])
    }

    @Test func singleAnswerStillReports() {
        let report = Analyzer().analyze(AnalysisInput(prompt: nil, answers: [answer("solo", "Use Go. Test it.")],
                                                      rubric: nil))
        #expect(report.panelists.count == 1)
        #expect(report.convergence.index == 0)
        #expect(report.keyPoints.allSatisfy { $0.consensus == .unique })
    }

    @Test func blindReplacesIdsLabelsAndModels() {
        let input = AnalysisInput(prompt: nil, answers: [
            answer("gpt-4o", "Use Go for services.", model: "openai/gpt-4o"),
            answer("claude", "Go suits services.", model: "anthropic/claude-sonnet-4-5"),
        ], rubric: nil)
        let report = Analyzer(blind: true).analyze(input)
        #expect(report.panelists.map(\.id) == ["ai-1", "ai-2"])
        #expect(report.panelists.map(\.label) == ["AI 1", "AI 2"])
        #expect(report.panelists.allSatisfy { $0.model == nil })
        let everyPanelistReference = report.keyPoints.flatMap { $0.support + $0.evidence.map(\.panelist) }
            + report.terms.flatMap(\.support)
        #expect(everyPanelistReference.allSatisfy { $0 == "ai-1" || $0 == "ai-2" })
    }

    @Test func answersOfOnlyHeadingsAreNotPerfectConvergence() {
        let report = Analyzer().analyze(AnalysisInput(prompt: nil, answers: [
            answer("a", "# Languages\n## Go and Python\n"), answer("b", "# Languages\n## Rust\n"),
        ], rubric: nil))
        #expect(!report.keyPoints.isEmpty)
        #expect(report.convergence.index < 1)
        #expect(invariantViolations(report) == [])
    }

    @Test func aLongCommaListStaysLinearWithARubric() throws {
        // 20,000 two-word fragments in one sentence: every clause shares the sentence, which is read once.
        let list = "Uses " + (0..<20_000).map { "big tool\($0)" }.joined(separator: ", ") + "."
        let rubric = Rubric(title: "t", categories: [.init(name: "c", items: [.init(id: "x", text: "big tools and small tools")])])
        let report = Analyzer().analyze(AnalysisInput(prompt: nil, answers: [answer("a", list), answer("b", "Uses a big tool.")],
                                                      rubric: rubric))
        #expect(report.analysis?.statements ?? 0 > 10_000)
        #expect(invariantViolations(report) == [])
    }

    @Test func termsComeFromStatementsNotCodeOrLinks() {
        let text = "Read \"Clean Code\" first.\n\n```python\nprint(\"Design Patterns\")\n```\n\nSee [docs](http://example.com/Go)."
        let report = Analyzer().analyze(AnalysisInput(prompt: nil, answers: [answer("a", text), answer("b", "Use Go.")],
                                                      rubric: nil))
        let terms = report.terms.map(\.text)
        #expect(terms.contains("Clean Code"))
        #expect(!terms.contains("Design Patterns"))
        #expect(!terms.contains { $0.contains("example.com") })
    }
}

@Suite struct SamplingTests {
    @Test func stabilityIsTheShareOfAPanelistsSamplesThatMakeThePoint() throws {
        let a = { (text: String) in Answer(panelist: Panelist(id: "a"), text: text) }
        let b = { (text: String) in Answer(panelist: Panelist(id: "b"), text: text) }
        let report = Analyzer().analyze(AnalysisInput(prompt: nil, answers: [
            a("Cache hot keys in Redis."), a("Cache hot keys in Redis. Shard the database."), a("Shard the database."),
            b("Cache hot keys in Redis."), b("Cache hot keys in Redis."),
        ], rubric: nil))
        let redis = try #require(report.keyPoints.first { $0.evidence.contains { $0.quote.contains("Redis") } })
        #expect(redis.support == ["a", "b"])
        #expect(redis.stability == ["a": 0.6667, "b": 1])
        #expect(redis.evidence.allSatisfy { $0.sample != nil })
        let shard = try #require(report.keyPoints.first { $0.evidence.contains { $0.quote.contains("Shard") } })
        #expect(shard.stability == ["a": 0.6667])
    }
}
