import ConvergeAnalysis
import ConvergeCore
import ConvergeEmbeddings
import Foundation
import Testing

/// examples/senior-backend under hybrid matching: paraphrases that lexical matching splits now join, and the
/// facts pinned under lexical (SeniorBackendTests) still hold.
@Suite(.serialized, .enabled(if: InstalledModel.available, InstalledModel.skipReason))
struct SeniorBackendHybridTests {
    static let input = try! SurveyFolder.load(paths: [Paths.repo.appendingPathComponent("examples/senior-backend").path])
    static let lexical = Analyzer(similarity: LexicalSimilarity()).analyze(input)
    static let hybrid: Report? = InstalledModel.model.map { Analyzer(similarity: HybridSimilarity(encoder: $0)).analyze(input) }
    /// With the ArgKP-tuned encoder and its matcher (`KeyPointMatcher.miniLMArgKP`), what the CLI's hybrid uses.
    static let tunedHybrid: Report? = InstalledModel.tuned.map { Analyzer(similarity: HybridSimilarity(encoder: $0)).analyze(input) }

    static func report(tuned: Bool) -> Report? { tuned ? tunedHybrid : hybrid }

    func item(_ report: Report, _ id: String) -> Report.RubricItemCoverage? { report.rubric?.items.first { $0.id == id } }

    @Test(arguments: [false, true]) func paraphrasesLexicalMissesAreCredited(tuned: Bool) throws {
        let hybrid = try #require(Self.report(tuned: tuned), "all-MiniLM-L6-v2 must be installed")
        #expect(hybrid.analysis?.similarity == "hybrid")
        // ai-1 "mentorship" makes "Mentoring junior engineers"; ai-3 "reviews code" makes "Conducting thorough
        // code reviews"; ai-1 "transforms business requirements into ... solutions" makes "Translating business
        // requirements into robust technical solutions". Lexical matching misses each.
        for (id, panelist) in [("mentoring", "ai-1"), ("code-review", "ai-3"), ("business", "ai-1")] {
            #expect(item(Self.lexical, id)?.support.contains(panelist) == false, "lexical already credits \(panelist) with \(id)")
            #expect(item(hybrid, id)?.support.contains(panelist) == true, "hybrid misses \(panelist) for \(id)")
        }
        let supported = { (r: Report) in r.rubric!.items.reduce(0) { $0 + $1.support.count } }
        #expect(supported(hybrid) > supported(Self.lexical))
    }

    @Test(arguments: [false, true]) func lexicalFactsStillHold(tuned: Bool) throws {
        let hybrid = try #require(Self.report(tuned: tuned), "all-MiniLM-L6-v2 must be installed")
        #expect(hybrid.omissions.map(\.item) == ["ai-tools"])
        #expect(item(hybrid, "clean-code")?.support == ["ai-1", "ai-3"])
        #expect(hybrid.terms.first { $0.text == "C#" }?.support == ["ai-2"])
        let conflict = try #require(hybrid.conflicts.first { $0.values.contains { $0.value == "5-8+ years" } })
        #expect(conflict.values.map(\.value) == ["5+ years", "5-8+ years", "5+ years"])
        // Everything lexical credits, hybrid credits too.
        for lexicalItem in Self.lexical.rubric!.items {
            let hybridSupport = Set(item(hybrid, lexicalItem.id)?.support ?? [])
            #expect(Set(lexicalItem.support).isSubset(of: hybridSupport), "\(lexicalItem.id)")
        }
    }

    @Test func embeddingOnlyIsReportedAsSuch() throws {
        let model = try #require(InstalledModel.model, "all-MiniLM-L6-v2 must be installed")
        let report = Analyzer(similarity: EmbeddingSimilarity(encoder: model)).analyze(Self.input)
        #expect(report.analysis?.similarity == "embedding")
        #expect(item(report, "ai-tools")?.support == [])
    }

    @Test func hybridIsDeterministic() throws {
        let model = try #require(InstalledModel.model, "all-MiniLM-L6-v2 must be installed")
        #expect(Analyzer(similarity: HybridSimilarity(encoder: model)).analyze(Self.input) == Self.hybrid)
    }
}
