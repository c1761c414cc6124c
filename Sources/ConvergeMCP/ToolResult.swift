import ConvergeCore
import ConvergeReport
import Foundation
import MCP

/// How tool results are made: the report JSON as structured content with a short summary, or a tool error
/// (`isError`) with the CLI's message, naming the argument.
enum ToolResult {
    /// A report as the tools return it: structured content is the report JSON (schema version 1) under `report`
    /// with `surveyId` when stored; the text is a short summary, and the Markdown report when `format` is `md`.
    static func report(_ report: Report, surveyID: String? = nil, status: String? = nil, markdown: Bool) throws
        -> CallTool.Result {
        var structured: [String: Value] = ["report": try value(of: report)]
        if let surveyID { structured["surveyId"] = .string(surveyID) }
        if let status { structured["status"] = .string(status) }
        var content: [Tool.Content] = [.plain(summary(report, surveyID: surveyID))]
        if markdown { content.append(.plain(ReportRenderer.render(report, format: .md))) }
        return .init(content: content, structuredContent: .object(structured))
    }

    /// A few lines: panelists answered and failed (with each failure's cause), key points, the convergence
    /// index, omissions.
    static func summary(_ report: Report, surveyID: String?) -> String {
        var lines: [String] = []
        if let surveyID { lines.append("Survey \(surveyID).") }
        let answered = report.panelists.filter { $0.status == .answered }
        let failed = report.panelists.filter { $0.status == .failed }
        lines.append("\(answered.count) of \(report.panelists.count) panelists answered"
            + (failed.isEmpty ? "." : "; \(failed.count) failed: "
                + failed.map { "\($0.label) (\($0.error ?? "no answer"))" }.joined(separator: "; ") + "."))
        let unanimous = report.keyPoints.filter { $0.consensus == .unanimous }.count
        lines.append("\(report.keyPoints.count) key points (\(unanimous) unanimous), \(report.conflicts.count) conflicts; "
            + "convergence index \(String(format: "%.2f", report.convergence.index)).")
        if !report.omissions.isEmpty {
            lines.append("Omitted by every panelist: "
                + report.omissions.map { "\($0.text) (\($0.category))" }.joined(separator: "; ") + ".")
        }
        return lines.joined(separator: "\n")
    }

    /// A tool error: the message as the CLI words it (file, line, field), and the same as structured content.
    static func error(_ error: InputError) -> CallTool.Result {
        var fields: [String: Value] = ["message": .string(error.message)]
        if let field = error.field { fields["field"] = .string(field) }
        if let file = error.file { fields["file"] = .string(file) }
        if let line = error.line { fields["line"] = .int(line) }
        return .init(content: [.plain(error.description)], structuredContent: .object(["error": .object(fields)]),
                     isError: true)
    }

    static func value<T: Encodable>(of encodable: T) throws -> Value {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try JSONDecoder().decode(Value.self, from: encoder.encode(encodable))
    }
}

extension Tool.Content {
    /// Plain text content.
    static func plain(_ text: String) -> Self { .text(text: text, annotations: nil, _meta: nil) }
}
