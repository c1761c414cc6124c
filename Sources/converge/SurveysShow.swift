import ArgumentParser
import ConvergeRunner
import ConvergeStore
import Foundation

/// `converge surveys show ID`: the survey, its settings, and every request's state.
struct SurveysShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show a stored survey: panel, settings, and each turn's answers and failures."
    )

    @Argument(help: "Survey id (or a unique prefix).")
    var id: String

    @Option(help: "text or json.")
    var format: ListOptions.Format = .text

    @OptionGroup var storage: StoreOptions

    struct Detail: Encodable {
        struct Request: Encodable {
            var turn: Int
            var panelist: String
            var sample: Int
            var state: String
            var text: String?
            var error: String?
            var latencyMs: Int?
            var inputTokens: Int?
            var outputTokens: Int?
            var attempts: Int
            var fromCache: Bool
        }
        var survey: SurveyText.Summary
        var spec: SurveySpec
        var turns: [String]
        var requests: [Request]
    }

    func run() async throws {
        let loaded = try await storage.withStore { try await SurveyArchive(store: $0).load(id) }
        let record = loaded.record
        switch format {
        case .json:
            let detail = Detail(
                survey: .init(id: record.id, status: record.status.rawValue, createdAt: SurveyText.iso(record.createdAt),
                              updatedAt: SurveyText.iso(record.updatedAt), panelSize: record.panelSize,
                              prompt: record.prompt),
                spec: loaded.spec, turns: loaded.turns.map(\.prompt),
                requests: loaded.requests.map {
                    .init(turn: $0.key.turn, panelist: $0.key.panelistID, sample: $0.key.sample, state: $0.state.rawValue,
                          text: $0.response?.text, error: $0.error, latencyMs: $0.response?.latencyMs,
                          inputTokens: $0.response?.inputTokens, outputTokens: $0.response?.outputTokens,
                          attempts: $0.attempts, fromCache: $0.fromCache)
                })
            FileHandle.standardOutput.write(try SurveyText.json(detail))
        case .text:
            FileHandle.standardOutput.write(Data(text(loaded).utf8))
        }
    }

    func text(_ loaded: SurveyArchive.Loaded) -> String {
        let record = loaded.record, spec = loaded.spec
        var out = "survey   \(record.id)\nstatus   \(record.status.rawValue)\n"
        out += "created  \(SurveyText.time(record.createdAt)) UTC (updated \(SurveyText.time(record.updatedAt)))\n"
        var settings = ["samples \(spec.samples)"]
        if let t = spec.parameters.temperature { settings.append("temperature \(t)") }
        if let m = spec.parameters.maxTokens { settings.append("max tokens \(m)") }
        if let s = spec.timeoutSeconds { settings.append("timeout \(s) s") }
        if let r = spec.rubric { settings.append("rubric \(r.file)") }
        out += "settings \(settings.joined(separator: ", "))\n"
        out += "panel\n"
        for member in spec.panel {
            var extra: [String] = []
            if let t = member.temperature { extra.append("temperature \(t)") }
            if member.system != nil { extra.append("own system prompt") }
            out += "  \(member.id)  \(member.model)" + (member.label != member.id ? "  (\(member.label))" : "")
                + (extra.isEmpty ? "" : "  [\(extra.joined(separator: ", "))]") + "\n"
        }
        var rows: [StoredRequestKey: StoredRequest] = [:]
        for row in loaded.requests { rows[row.key] = row }
        for turn in loaded.turns {
            out += "turn \(turn.index + 1): \(SurveyText.shorten(turn.prompt, to: 70))\n"
            for member in spec.panel {
                for sample in 0..<spec.samples {
                    let key = StoredRequestKey(turn: turn.index, panelistID: member.id, sample: sample)
                    let name = spec.samples > 1 ? "\(member.id) #\(sample + 1)" : member.id
                    out += "  \(name): " + Self.describe(rows[key]) + "\n"
                }
            }
        }
        return out
    }

    static func describe(_ row: StoredRequest?) -> String {
        guard let row else { return "not asked" }
        switch row.state {
        case .answered:
            let response = row.response
            var parts = ["answered"]
            if row.fromCache { parts.append("from cache") } else if let ms = response?.latencyMs { parts.append("\(ms) ms") }
            if let tokens = response?.outputTokens { parts.append("\(tokens) tokens") }
            parts.append("\(response?.text.count ?? 0) characters")
            return parts.joined(separator: ", ")
        case .failed:
            return "failed: \(row.error ?? "unknown") (\(row.attempts) attempts)"
        case .pending:
            return "pending (sent, no answer stored)"
        }
    }
}
