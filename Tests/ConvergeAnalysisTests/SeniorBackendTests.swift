import ConvergeAnalysis
import ConvergeCore
import Foundation
import Testing

/// Values read by hand from examples/senior-backend (three real answers and a hand-made rubric).
@Suite struct SeniorBackendTests {
    let input: AnalysisInput
    let report: Report

    init() throws {
        input = try SurveyFolder.load(paths: [Paths.example.path])
        report = Analyzer().analyze(input)
    }

    func term(_ text: String) -> Report.Term? { report.terms.first { $0.text == text } }
    func item(_ id: String) -> Report.RubricItemCoverage? { report.rubric?.items.first { $0.id == id } }

    @Test func readsTheSurveyFolder() {
        #expect(input.answers.map(\.panelist.id) == ["ai-1", "ai-2", "ai-3"])
        #expect(input.prompt?.hasPrefix("What does it mean to be a Senior Software Engineer") == true)
        #expect(input.rubric?.items.count == 28)
        #expect(report.panelists.map(\.status) == [.answered, .answered, .answered])
    }

    @Test func cleanCodeIsNamedByTheTwoAnswersThatNameIt() {
        #expect(term("Clean Code")?.support == ["ai-1", "ai-3"])
        #expect(term("Clean Code")?.kind == .title)
        #expect(term("Clean Architecture")?.support == ["ai-2"])
        #expect(item("clean-code")?.support == ["ai-1", "ai-3"])
    }

    @Test func namesAreCaseAwareAndKeptWhole() {
        #expect(term("C#")?.support == ["ai-2"])
        #expect(term("Go")?.support == ["ai-1", "ai-2", "ai-3"])
        #expect(term("Node.js")?.support == ["ai-1"])
        #expect(term("CI/CD")?.support == ["ai-1", "ai-2"])
        // `SQL/NoSQL` and `REST/gRPC` name two things each.
        #expect(term("SQL")?.support == ["ai-1", "ai-2", "ai-3"])
        #expect(term("NoSQL")?.support == ["ai-1", "ai-2", "ai-3"])
        #expect(term("gRPC")?.support == ["ai-1"])
        #expect(term("SQL/NoSQL") == nil)
        // Sentence-initial capitals are not names.
        for word in ["Strong", "Being", "Beyond", "Leads", "Familiar", "Essential", "Most"] {
            #expect(term(word) == nil, "\(word) is not a name")
        }
        #expect(term("Designing Data-Intensive Applications")?.support == ["ai-1", "ai-2"])
    }

    @Test func yearsOfExperienceDifferenceIsAConflict() throws {
        #expect(term("5+ years")?.support == ["ai-1", "ai-3"])
        #expect(term("5-8+ years")?.support == ["ai-2"])
        let conflict = try #require(report.conflicts.first { $0.values.contains { $0.value == "5-8+ years" } })
        #expect(conflict.values.map(\.panelist) == ["ai-1", "ai-2", "ai-3"])
        #expect(conflict.values.map(\.value) == ["5+ years", "5-8+ years", "5+ years"])
        #expect(item("years")?.support == ["ai-1", "ai-2", "ai-3"])
    }

    @Test func nobodyMentionsAI() {
        // The author's own finding: AI is the one point none of the three answers makes.
        #expect(report.omissions.map(\.item) == ["ai-tools"])
        #expect(report.omissions.first?.category == "AI in the workflow")
        #expect(item("ai-tools")?.support == [])
        #expect(term("AI") == nil)
    }

    @Test func rubricCoverageReadByHand() {
        #expect(item("ddia")?.support == ["ai-1", "ai-2"])
        #expect(item("sdi")?.support == ["ai-2"])
        #expect(item("cloud")?.support == ["ai-1", "ai-2"])
        #expect(item("caching")?.support == ["ai-2"])
        #expect(item("messaging")?.support == ["ai-3"])
        #expect(item("autonomy")?.support == ["ai-3"])
        #expect(item("databases")?.support == ["ai-1", "ai-2", "ai-3"])
        #expect(item("scalable")?.support == ["ai-1", "ai-2", "ai-3"])
        #expect(item("design-patterns")?.support == ["ai-3"])
        #expect(item("tech-debt")?.support == ["ai-2"])
        // "DDD" is the acronym of the title "Domain-Driven Design".
        #expect(item("ddd")?.support == ["ai-3"])
        // "Strong in languages like Go, Java, or Python": an example named, and the prompt's own words are context.
        #expect(item("languages")?.support == ["ai-1", "ai-2", "ai-3"])
        // "Clean Architecture" by Martin is not "Clean Code" by Martin.
        #expect(item("clean-code")?.support.contains("ai-2") == false)
    }

    @Test func keyPointsCarryTheirRubricCategoryAndConsensus() throws {
        let years = try #require(report.keyPoints.first { $0.rubricItem == "years" })
        #expect(years.category == "Experience")
        #expect(years.consensus == .unanimous)
        let caching = try #require(report.keyPoints.first { $0.rubricItem == "caching" })
        #expect(caching.consensus == .unique)
        #expect(caching.evidence.map(\.quote) == ["caching strategies"])
        // "Beyond coding" and "Beyond pure coding skills" only lead into what follows (filler in the human
        // consolidation): no key point is labelled by them.
        #expect(!report.keyPoints.contains { $0.label.hasPrefix("Beyond") })
    }

    @Test func everyQuoteIsExactAndInvariantsHold() {
        let answers = Dictionary(uniqueKeysWithValues: input.answers.map { ($0.panelist.id, $0.text) })
        #expect(quoteViolations(report, answers: answers) == [])
        #expect(invariantViolations(report) == [])
    }

    @Test func convergenceIndexIsTheMeanPairwiseJaccard() {
        let ids = ["ai-1", "ai-2", "ai-3"]
        var sets: [String: Set<String>] = [:]
        for point in report.keyPoints { for id in point.support { sets[id, default: []].insert(point.id) } }
        var sum = 0.0
        for (i, a) in ids.enumerated() {
            for b in ids[(i + 1)...] {
                let jaccard = Double(sets[a]!.intersection(sets[b]!).count) / Double(sets[a]!.union(sets[b]!).count)
                #expect(abs(report.convergence.pairwise[a]![b]! - jaccard) < 1e-4)
                sum += jaccard
            }
        }
        #expect(abs(report.convergence.index - sum / 3) < 1e-4)
        #expect(report.convergence.index > 0 && report.convergence.index < 0.5)
    }

    @Test func blindLabelsHideIdsAndModels() {
        let blind = Analyzer(blind: true).analyze(input)
        #expect(blind.panelists.map(\.label) == ["AI 1", "AI 2", "AI 3"])
        #expect(blind.panelists.allSatisfy { $0.model == nil })
        #expect(blind.analysis?.blind == true)
    }

    @Test func analysisIsDeterministic() {
        #expect(Analyzer().analyze(input) == report)
    }
}
