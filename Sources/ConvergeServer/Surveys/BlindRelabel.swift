import ConvergeRunner
import Foundation

/// What the pages of a blind survey show instead of its panel: panelist ids become `ai-1`, `ai-2`, ... and
/// labels `AI 1`, `AI 2`, ... (panel order, as `Report.blinded()` numbers them), models are dropped, and model
/// names, labels and ids in failure causes are replaced by the blind label (as `ask --blind` scrubs provider
/// errors). The API keeps the real panel: it is the operator's view.
struct BlindRelabel: Sendable {
    private let ids: [String: String]
    private let labels: [String: String]
    /// Names to replace in free text, longest first, each with its blind label.
    private let names: [(name: String, label: String)]

    init(panel: [SurveySpec.Member]) {
        var ids: [String: String] = [:]
        var labels: [String: String] = [:]
        var names: [(String, String)] = []
        for (n, member) in panel.enumerated() {
            let label = "AI \(n + 1)"
            ids[member.id] = "ai-\(n + 1)"
            labels[member.id] = label
            let model = member.model.split(separator: "/", maxSplits: 1).last.map(String.init) ?? member.model
            for name in [member.model, model, member.label, member.id] where name.count >= 3 {
                names.append((name, label))
            }
        }
        self.ids = ids
        self.labels = labels
        self.names = names.sorted { $0.0.count > $1.0.count }
    }

    func id(_ real: String) -> String { ids[real] ?? real }
    func label(_ real: String) -> String { labels[real] ?? real }

    func scrub(_ text: String) -> String {
        names.reduce(text) { $0.replacingOccurrences(of: $1.name, with: $1.label) }
    }

    /// The event with its JSON relabelled: `panelist` values, the `panel` list (`{id, label}` only), and the
    /// free-text fields `cause`, `error` and `reason` scrubbed.
    func apply(_ event: ServerSentEvent) -> ServerSentEvent {
        guard let object = try? JSONSerialization.jsonObject(with: Data(event.data.utf8)),
              let data = try? JSONSerialization.data(withJSONObject: transform(object),
                                                     options: [.sortedKeys, .withoutEscapingSlashes]) else {
            return event
        }
        return ServerSentEvent(name: event.name, data: String(decoding: data, as: UTF8.self))
    }

    private func transform(_ value: Any) -> Any {
        if let array = value as? [Any] { return array.map(transform) }
        guard let object = value as? [String: Any] else { return value }
        var out: [String: Any] = [:]
        for (key, field) in object {
            switch (key, field) {
            case ("panelist", let text as String):
                out[key] = id(text)
            case ("panel", let members as [[String: Any]]):
                out[key] = members.map { member -> [String: Any] in
                    let real = member["id"] as? String ?? ""
                    return ["id": id(real), "label": label(real)]
                }
            case ("cause", let text as String), ("error", let text as String), ("reason", let text as String):
                out[key] = scrub(text)
            default:
                out[key] = transform(field)
            }
        }
        return out
    }
}
