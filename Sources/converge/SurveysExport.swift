import ArgumentParser
import ConvergeRunner
import Foundation

/// `converge surveys export ID`: the survey's report, from its newest stored analysis.
struct SurveysExport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a stored survey's report (its newest analysis; no model is called)."
    )

    @Argument(help: "Survey id (or a unique prefix).")
    var id: String

    @OptionGroup var storage: StoreOptions

    @OptionGroup var report: ReportOptions

    func run() async throws {
        try report.preflight()
        let result = try await storage.withStore { store in
            let archive = SurveyArchive(store: store)
            let loaded = try await archive.load(id)
            if let stored = try await archive.latestReport(loaded.record.id) { return stored }
            // Not analysed yet (killed before the end): analyse what is stored, without saving.
            return SurveyArchive.result(of: loaded).report(rubric: try loaded.spec.parsedRubric())
        }
        try report.emit(report.blind ? result.blinded() : result)
    }
}
