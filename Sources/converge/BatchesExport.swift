import ArgumentParser
import ConvergeCore
import ConvergeProviders
import ConvergeReport
import ConvergeStore
import Foundation

/// `converge batches export ID --to DIR`: the batch report in every format and each survey's report.
struct BatchesExport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a stored batch's report (batch.md, .json, .csv, .html) and its surveys' reports into a folder.",
        discussion: "DIR/surveys/ITEM.md, .json and .html are each prompt's report; batch.md and batch.html link to them. No model is called."
    )

    @Argument(help: "Batch id (or a unique prefix).")
    var id: String

    @Option(help: "The folder to write (created if missing).")
    var to: String

    @Option(help: "Configuration file (for `prices`).")
    var config: String?

    @OptionGroup var storage: StoreOptions

    func run() async throws {
        let configuration = try ConvergeConfig.load(explicitPath: config)
        let surveys = (to as NSString).appendingPathComponent("surveys")
        do {
            try FileManager.default.createDirectory(atPath: surveys, withIntermediateDirectories: true)
        } catch {
            throw InputError(file: to, "cannot create the folder: \((error as NSError).localizedDescription)")
        }
        let count = try await storage.withStore { store in
            let batch = try await store.batch(id: id)
            let entries = try await BatchReporting.entries(batch, store: store)
            for entry in entries {
                guard let report = entry.report else { continue }
                for format in [ReportFormat.md, .json, .html] {
                    let path = (surveys as NSString).appendingPathComponent("\(entry.itemID).\(format.fileExtension)")
                    try AtomicFile.write(ReportRenderer.render(report, format: format), to: path)
                }
            }
            let built = try await BatchReporting.report(batch, store: store, configuration: configuration)
            for format in ReportFormat.allCases {
                let path = (to as NSString).appendingPathComponent("batch.\(format.fileExtension)")
                try AtomicFile.write(BatchReportRenderer.render(built, format: format), to: path)
            }
            return entries.count
        }
        FileHandle.standardError.write(Data("converge: wrote the batch report and \(count) survey reports to \(to)\n".utf8))
    }
}
