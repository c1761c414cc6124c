import ConvergeCore
import ConvergeProviders
import ConvergeReport
import ConvergeRunner
import ConvergeStore
import Foundation

/// A stored batch's report, as `batch`, `batches show` and `batches export` make it: each survey's newest
/// report (a survey without one contributes nothing but its row), priced from the config file's `prices`.
enum BatchReporting {
    /// What the CLI keeps as a batch's spec (the surveys keep their own).
    struct Spec: Codable {
        /// `ask` (models were asked) or `import` (answer folders).
        var kind: String
        /// The batch file or the folders.
        var sources: [String]

        func encoded() -> Data { (try? JSONEncoder().encode(self)) ?? Data("{}".utf8) }
    }

    /// The entries of `batch`, in batch order (a survey deleted on its own has no report).
    static func entries(_ batch: StoredBatch, store: any SurveyStore) async throws -> [BatchReport.Entry] {
        let archive = SurveyArchive(store: store)
        var entries: [BatchReport.Entry] = []
        for item in batch.items {
            entries.append(BatchReport.Entry(itemID: item.itemID, surveyID: item.surveyID,
                                             report: try await archive.latestReport(item.surveyID)))
        }
        return entries
    }

    /// The batch report of `batch`, priced from `configuration`.
    static func report(_ batch: StoredBatch, store: any SurveyStore, configuration: ConvergeConfig) async throws -> BatchReport {
        let prices = configuration.prices.mapValues {
            BatchReport.Price(inputPerMillion: $0.inputPerMillion, outputPerMillion: $0.outputPerMillion)
        }
        return BatchReport(batch: batch.id, entries: try await entries(batch, store: store), prices: prices)
    }

    /// Writes `report` in `format` to `output` (atomically) or standard output.
    static func emit(_ report: BatchReport, format: ReportFormat, output: String?) throws {
        let text = BatchReportRenderer.render(report, format: format)
        if let output, output != "-" {
            try AtomicFile.write(text, to: output)
        } else {
            FileHandle.standardOutput.write(Data(text.utf8))
        }
    }
}
