import ConvergeCore
import ConvergeReport
import ConvergeRunner
import ConvergeStore
import Foundation
import MCP

/// Stored survey reports as MCP resources: `converge://surveys/ID/report.json` (report JSON, schema version 1)
/// and `converge://surveys/ID/report.md` (the Markdown report), newest report of each survey; blind when the
/// survey is.
struct ReportResources: Sendable {
    let context: MCPContext
    static let pageSize = 50

    static let templates: [Resource.Template] = [
        Resource.Template(uriTemplate: "converge://surveys/{id}/report.json", name: "Survey report (JSON)",
                          description: "A stored survey's newest report, report JSON schema version 1.",
                          mimeType: ReportFormat.json.mediaType),
        Resource.Template(uriTemplate: "converge://surveys/{id}/report.md", name: "Survey report (Markdown)",
                          description: "A stored survey's newest report as Markdown.", mimeType: ReportFormat.md.mediaType),
    ]

    /// Both reports of every stored survey, newest first, `pageSize` surveys a page (the cursor is the offset).
    func list(cursor: String?) async throws -> ListResources.Result {
        guard let store = context.store else { return .init(resources: []) }
        let offset = try cursor.map { cursor in
            guard let offset = Int(cursor), offset >= 0 else { throw MCPError.invalidParams("cursor: not one this server gave") }
            return offset
        } ?? 0
        var surveys = try await store.surveys(limit: Self.pageSize + 1, offset: offset)
        let more = surveys.count > Self.pageSize
        if more { surveys.removeLast() }
        let resources = surveys.filter { $0.status != .running }.flatMap { survey in
            [ReportFormat.json, .md].map { format in
                Resource(name: "Survey \(survey.id) report (\(format))", uri: Self.uri(survey.id, format),
                         description: String(survey.prompt.prefix(120)), mimeType: format.mediaType)
            }
        }
        return .init(resources: resources, nextCursor: more ? String(offset + Self.pageSize) : nil)
    }

    func read(_ uri: String) async throws -> ReadResource.Result {
        guard let parsed = Self.parse(uri) else {
            throw MCPError.invalidParams("uri: `\(uri)` is not converge://surveys/ID/report.json or report.md")
        }
        let (id, format) = parsed
        guard let store = context.store else { throw MCPError.invalidParams("uri: this server keeps no surveys") }
        let archive = SurveyArchive(store: store)
        let loaded: SurveyArchive.Loaded
        do {
            loaded = try await archive.load(id)
        } catch let error as StoreError {
            throw MCPError.invalidParams("uri: \(error.description)")
        }
        guard var report = try await archive.latestReport(loaded.record.id) else {
            throw MCPError.invalidParams("uri: survey \(loaded.record.id) has no report yet (status \(loaded.record.status.rawValue))")
        }
        if loaded.spec.blind == true { report = report.blinded() }
        return .init(contents: [.text(ReportRenderer.render(report, format: format), uri: uri, mimeType: format.mediaType)])
    }

    static func uri(_ id: String, _ format: ReportFormat) -> String { "converge://surveys/\(id)/report.\(format.fileExtension)" }

    /// The survey id and format of a report URI.
    static func parse(_ uri: String) -> (String, ReportFormat)? {
        let prefix = "converge://surveys/"
        guard uri.hasPrefix(prefix) else { return nil }
        let parts = uri.dropFirst(prefix.count).split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty else { return nil }
        switch parts[1] {
        case "report.json": return (String(parts[0]), .json)
        case "report.md": return (String(parts[0]), .md)
        default: return nil
        }
    }
}
