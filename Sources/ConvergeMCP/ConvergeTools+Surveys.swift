import ConvergeAnalysis
import ConvergeCore
import ConvergeReport
import ConvergeRunner
import ConvergeStore
import Foundation
import MCP

extension ConvergeTools {
    /// `survey_get`: the survey (status, panel, turns, the state of its requests) and its newest report.
    func surveyGet(_ arguments: [String: Value]?) async throws -> CallTool.Result {
        let args = try ToolArguments(arguments, allowed: ["id", "format"])
        let id = try args.requiredString("id")
        let markdown = try args.oneOf("format", ["json", "md"]) == "md"
        let archive = SurveyArchive(store: try store())
        let loaded = try await archive.load(id)
        let record = loaded.record
        var report = try await archive.latestReport(record.id)
        if loaded.spec.blind == true { report = report?.blinded() }
        var counts: [String: Int] = [:]
        for request in loaded.requests { counts[request.state.rawValue, default: 0] += 1 }
        let expected = loaded.turns.count * loaded.spec.samples * loaded.spec.panel.count
        counts["not asked"] = max(0, expected - loaded.requests.count)
        var structured: [String: Value] = [
            "survey": Self.row(record),
            // Blind: the panel as the blinded report labels it (ids come from model names).
            "panel": .array(loaded.spec.panel.enumerated().map { n, member in
                loaded.spec.blind == true ? .object(["label": .string("AI \(n + 1)")])
                    : .object(["id": .string(member.id), "label": .string(member.label), "model": .string(member.model)])
            }),
            "turns": .array(loaded.turns.map { .string($0.prompt) }),
            "requests": .object(counts.mapValues { .int($0) }),
        ]
        var text = "Survey \(record.id): \(record.status.rawValue); \(loaded.turns.count) turn(s), "
            + "\(loaded.spec.panel.count) panelists; requests: "
            + counts.keys.sorted().map { "\(counts[$0]!) \($0)" }.joined(separator: ", ") + "."
        if record.status == .running || record.status == .interrupted {
            text += " `converge surveys resume \(record.id)` finishes it."
        }
        guard let report else {
            text += " It has no report yet."
            return CallTool.Result(content: [.plain(text)], structuredContent: .object(structured))
        }
        structured["report"] = try ToolResult.value(of: report)
        var content: [Tool.Content] = [.plain(text), .plain(ToolResult.summary(report, surveyID: nil))]
        if markdown { content.append(.plain(ReportRenderer.render(report, format: .md))) }
        return CallTool.Result(content: content, structuredContent: .object(structured))
    }

    /// `survey_list`: stored surveys, newest first.
    func surveyList(_ arguments: [String: Value]?) async throws -> CallTool.Result {
        let args = try ToolArguments(arguments, allowed: ["limit", "offset"])
        let limit = try args.int("limit") ?? 50, offset = try args.int("offset") ?? 0
        if limit < 1 { throw InputError(field: "limit", "must be at least 1") }
        if offset < 0 { throw InputError(field: "offset", "must not be negative") }
        var surveys = try await store().surveys(limit: limit + 1, offset: offset)
        let more = surveys.count > limit
        if more { surveys.removeLast() }
        let lines = surveys.map { "\($0.id)  \($0.status.rawValue)  \($0.panelSize) panelists  \($0.prompt.prefix(60))" }
        var text = surveys.isEmpty ? "No surveys." : lines.joined(separator: "\n")
        if more { text += "\nMore surveys: offset \(offset + limit)." }
        var structured: [String: Value] = ["surveys": .array(surveys.map(Self.row))]
        if more { structured["nextOffset"] = .int(offset + limit) }
        return CallTool.Result(content: [.plain(text)], structuredContent: .object(structured))
    }

    /// `reanalyze`: the stored answers analysed again (another rubric, another matcher) and stored.
    func reanalyze(_ arguments: [String: Value]?) async throws -> CallTool.Result {
        let args = try ToolArguments(arguments, allowed: ["id", "rubric", "rubric_yaml", "similarity", "blind", "format"])
        let id = try args.requiredString("id")
        let given = try rubric(args)
        let analyzer = Analyzer(similarity: try context.similarity(args.oneOf("similarity", ["lexical", "embedding", "hybrid"])))
        let markdown = try args.oneOf("format", ["json", "md"]) == "md"
        let archive = SurveyArchive(store: try store())
        let loaded = try await archive.load(id)
        let blind = try args.bool("blind") ?? loaded.spec.blind ?? false
        let rubric = try given ?? loaded.spec.parsedRubric()
        let (report, session) = await archive.reanalyse(loaded, rubric: rubric, analyzer: analyzer)
        await session.keep()
        try await archive.saveAnalysis(loaded.record.id, report: report, turn: max(0, loaded.turns.count - 1))
        return try ToolResult.report(blind ? report.blinded() : report, surveyID: loaded.record.id, markdown: markdown)
    }

    static func row(_ survey: StoredSurvey) -> Value {
        let iso = ISO8601DateFormatter()
        iso.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return .object(["id": .string(survey.id), "status": .string(survey.status.rawValue),
                        "createdAt": .string(iso.string(from: survey.createdAt)),
                        "updatedAt": .string(iso.string(from: survey.updatedAt)),
                        "panelSize": .int(survey.panelSize), "prompt": .string(survey.prompt)])
    }
}
