import ArgumentParser
import ConvergeCore
import ConvergeReport

/// `--format` and `--output` of the commands that write a batch report (`batch`, `batches show`).
struct BatchReportOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "Batch report format: md, json, csv or html.")
    var format: ReportFormat = .md

    @Option(name: .shortAndLong, help: "Write the batch report to this file (atomically); - is standard output.")
    var output: String?

    func validate() throws {
        if let output, output.trimmingWhitespace.isEmpty { throw ValidationError("--output needs a file name") }
    }

    /// Fails now, not after the work, when the output cannot be written.
    func preflight() throws {
        guard let output, output != "-" else { return }
        try AtomicFile.checkWritable(output)
    }
}
