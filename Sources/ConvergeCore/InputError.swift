/// A problem with the user's input, reported with where it is (file, line, column, field) and what is wrong.
///
/// Front ends print `description` and exit with status 2; nothing is written when one is thrown.
public struct InputError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file (or other source) the problem is in, if any.
    public var file: String?
    /// 1-based line and column, when known.
    public var line: Int?
    public var column: Int?
    /// The field path (`categories[2].items[0].id`), when the problem is one field.
    public var field: String?
    public var message: String

    public init(file: String? = nil, line: Int? = nil, column: Int? = nil, field: String? = nil, _ message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.field = field
        self.message = message
    }

    public var description: String {
        var location = file ?? ""
        if let line {
            location += location.isEmpty ? "line \(line)" : ":\(line)"
            if let column { location += ":\(column)" }
        }
        var text = location.isEmpty ? "" : "\(location): "
        if let field { text += "\(field): " }
        return text + message
    }
}
