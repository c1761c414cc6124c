import ArgumentParser
import ConvergeCore
import ConvergeReport
import Foundation

extension ReportFormat: ExpressibleByArgument {}

/// Output options shared by every command that writes a report.
struct ReportOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "Report format: md, json, csv or html.")
    var format: ReportFormat = .md

    @Option(name: .shortAndLong, help: "Write the report to this file (atomically) instead of standard output; - is standard output.")
    var output: String?

    @Flag(help: "Report panelists as AI 1, AI 2, ... and hide model names.")
    var blind = false

    func validate() throws {
        if let output, output.trimmingWhitespace.isEmpty { throw ValidationError("--output needs a file name") }
    }

    /// Refuses an output file that is one of the inputs: writing the report would destroy an answer.
    func checkOutput(against sources: [String]) throws {
        guard let output, output != "-" else { return }
        let target = URL(fileURLWithPath: output).resolvingSymlinksInPath().standardizedFileURL.path
        for source in sources where URL(fileURLWithPath: source).resolvingSymlinksInPath().standardizedFileURL.path == target {
            throw InputError(file: output, "is one of the input files; refusing to overwrite it with the report")
        }
    }

    /// Fails now, not after the work, when the output cannot be written: its folder is missing or read-only,
    /// or it is a folder.
    func preflight() throws {
        guard let output, output != "-" else { return }
        try AtomicFile.checkWritable(output)
    }

    /// Renders and writes the report.
    func emit(_ report: Report) throws {
        let text = ReportRenderer.render(report, format: format)
        if let output, output != "-" {
            try AtomicFile.write(text, to: output)
        } else {
            FileHandle.standardOutput.write(Data(text.utf8))
        }
    }
}
