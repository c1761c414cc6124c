import ArgumentParser
import ConvergeAnalysis
import ConvergeCore
import ConvergeRunner
import Foundation

/// `converge reanalyze ID`: analyse a stored survey's answers again (a newer engine, another rubric).
struct Reanalyze: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Analyse a stored survey's answers again and store the new analysis; no model is called."
    )

    @Argument(help: "Survey id (or a unique prefix).")
    var id: String

    @Option(help: "Rubric YAML to use instead of the survey's own.")
    var rubric: String?

    @OptionGroup var matching: SimilarityOptions
    @OptionGroup var storage: StoreOptions
    @OptionGroup var report: ReportOptions

    func run() async throws {
        try report.checkOutput(against: rubric.map { [$0] } ?? [])
        try report.preflight()
        let given = try rubric.map { try Rubric(yaml: SurveyFolder.readText($0), file: $0) }
        let analyzer = Analyzer(similarity: try matching.model())
        let result = try await storage.withStore { store in
            let archive = SurveyArchive(store: store)
            let loaded = try await archive.load(id)
            let stored = SurveyArchive.result(of: loaded)
            let analysis = stored.report(analyzer: analyzer, rubric: try given ?? loaded.spec.parsedRubric())
            try await archive.saveAnalysis(loaded.record.id, report: analysis, turn: max(0, loaded.turns.count - 1))
            return analysis
        }
        try report.emit(report.blind ? result.blinded() : result)
    }
}
