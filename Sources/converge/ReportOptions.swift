import ArgumentParser
import ConvergeCore
import ConvergeReport
import Foundation

extension ReportFormat: ExpressibleByArgument {}

/// Output options shared by every command that writes a report.
struct ReportOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "Report format: md, json or csv.")
    var format: ReportFormat = .md

    @Option(name: .shortAndLong, help: "Write the report to this file (atomically) instead of standard output.")
    var output: String?

    @Flag(help: "Report panelists as AI 1, AI 2, ... and hide model names.")
    var blind = false

    /// Renders and writes the report.
    func emit(_ report: Report) throws {
        let text = ReportRenderer.render(report, format: format)
        if let output {
            try AtomicFile.write(text, to: output)
        } else {
            FileHandle.standardOutput.write(Data(text.utf8))
        }
    }
}
