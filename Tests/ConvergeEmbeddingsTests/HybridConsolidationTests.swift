import ConvergeAnalysis
import ConvergeCore
import ConvergeEmbeddings
import Foundation
import Testing

/// Facts read from the human consolidations in ../shared/corpus/consolidation (`gold.json`), checked on the report
/// `converge analyze --no-rubric` makes with the default matching when the model is installed (hybrid).
@Suite(.serialized, .enabled(if: InstalledModel.available, InstalledModel.skipReason))
struct HybridConsolidationTests {
    static func report(_ name: String) throws -> Report {
        let input = try SurveyFolder.load(paths: [Paths.corpus.appendingPathComponent("consolidation/\(name)").path],
                                          useFolderRubric: false)
        let model = try #require(InstalledModel.model, "all-MiniLM-L6-v2 loads")
        return Analyzer(similarity: HybridSimilarity(encoder: model)).analyze(input)
    }

    /// ae-215, mistral-large: "**Macronutrients**:" over nested "**Carbohydrates**:", "**Proteins**:", "**Fats**:",
    /// then "**Micronutrients**:"; the gold has a point for each. Before, the lead-in merges chained four of them
    /// and 12 more gold points into one key point of 62 quotes, unanimous, labelled "Absorption of fat-soluble
    /// vitamins".
    @Test func namedItemsOfOneAnswerAreDifferentKeyPoints() throws {
        let report = try Self.report("ae-215")
        let names: Set<String> = ["Macronutrients", "Carbohydrates", "Proteins", "Fats", "Micronutrients"]
        let named = report.keyPoints.map { point in
            Set(point.evidence.filter { $0.panelist == "mistral-large" && names.contains($0.quote) }.map(\.quote))
        }
        #expect(named.reduce(into: Set<String>()) { $0.formUnion($1) } == names, "each name is evidence")
        #expect(named.allSatisfy { $0.count <= 1 }, "\(named.filter { $0.count > 1 })")
        #expect(report.keyPoints.allSatisfy { $0.evidence.count <= 48 }, "\(report.keyPoints.map(\.evidence.count).max() ?? 0)")
    }
}
