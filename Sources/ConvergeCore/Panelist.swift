/// A member of a panel: one model (or one answer file) whose answers are compared with the others'.
///
/// - `id`: a stable identifier used in reports (`ai-1`, `gpt-4o`, the answer file's stem).
/// - `label`: the display name.
/// - `model`: the model spec (`provider/model`, ``ModelSpec`` in ConvergeProviders) or `nil` when the answer came from a file.
public struct Panelist: Sendable, Hashable, Codable {
    public var id: String
    public var label: String
    public var model: String?

    public init(id: String, label: String? = nil, model: String? = nil) {
        self.id = id
        self.label = label ?? id
        self.model = model
    }
}

/// One panelist's answer to the turn being analysed.
///
/// `text` is kept exactly as received: every offset in a report is an index into
/// `text.unicodeScalars` (code points), so that `answer[start:end] == quote` holds in Python.
public struct Answer: Sendable, Hashable {
    public var panelist: Panelist
    public var text: String

    public init(panelist: Panelist, text: String) {
        self.panelist = panelist
        self.text = text
    }
}
