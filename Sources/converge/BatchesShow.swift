import ArgumentParser
import ConvergeProviders
import ConvergeStore
import Foundation

/// `converge batches show ID`: the batch's progress (on standard error) and its report from the stored analyses.
struct BatchesShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show a stored batch: how far its surveys are, then the batch report (no model is called)."
    )

    @Argument(help: "Batch id (or a unique prefix).")
    var id: String

    @Option(help: "Configuration file (for `prices`).")
    var config: String?

    @OptionGroup var storage: StoreOptions
    @OptionGroup var report: BatchReportOptions

    func run() async throws {
        try report.preflight()
        let configuration = try ConvergeConfig.load(explicitPath: config)
        try await storage.withStore { store in
            let batch = try await store.batch(id: id)
            var counts: [String: Int] = [:]
            for item in batch.items {
                let status = (try? await store.survey(id: item.surveyID).status.rawValue) ?? "deleted"
                counts[status, default: 0] += 1
            }
            let progress = counts.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
            FileHandle.standardError.write(Data("converge: batch \(batch.id): \(batch.items.count) prompts: \(progress)\n".utf8))
            let built = try await BatchReporting.report(batch, store: store, configuration: configuration)
            try BatchReporting.emit(built, format: report.format, output: report.output)
        }
    }
}
