import ConvergeCore
import MCP

/// A tool call's arguments, read by name and type. Every problem is an `InputError` naming the argument (the
/// field), so that the client gets a tool error it can act on, never a crash or a silent default.
struct ToolArguments: Sendable {
    let values: [String: Value]

    init(_ values: [String: Value]?, allowed: Set<String>) throws {
        self.values = values ?? [:]
        if let unknown = self.values.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw InputError(field: unknown, "unknown argument (known: \(allowed.sorted().joined(separator: ", ")))")
        }
    }

    func has(_ name: String) -> Bool {
        if case .null = values[name] ?? .null { return false }
        return true
    }

    func string(_ name: String) throws -> String? {
        guard has(name), let value = values[name] else { return nil }
        guard let string = value.stringValue else { throw InputError(field: name, "must be a string, not \(Self.kind(value))") }
        try Self.refuseNUL(string, field: name)
        return string
    }

    func requiredString(_ name: String) throws -> String {
        guard let string = try string(name) else { throw InputError(field: name, "is required") }
        return string
    }

    func strings(_ name: String) throws -> [String] {
        guard has(name), let value = values[name] else { return [] }
        guard let array = value.arrayValue else { throw InputError(field: name, "must be an array of strings, not \(Self.kind(value))") }
        return try array.enumerated().map { n, element in
            guard let string = element.stringValue else {
                throw InputError(field: "\(name)[\(n)]", "must be a string, not \(Self.kind(element))")
            }
            try Self.refuseNUL(string, field: "\(name)[\(n)]")
            return string
        }
    }

    /// NUL (U+0000) is refused, as `POST /v1/surveys` refuses it: no database keeps it in text (SQLite reads up
    /// to it, PostgreSQL refuses it), so what is stored would differ from what was sent.
    static func refuseNUL(_ text: String, field: String) throws {
        if text.unicodeScalars.contains("\u{0}") { throw InputError(field: field, "must not contain NUL (U+0000)") }
    }

    func int(_ name: String) throws -> Int? {
        guard has(name), let value = values[name] else { return nil }
        if let int = value.intValue { return int }
        if let double = value.doubleValue, double.rounded() == double, abs(double) < 1e15 { return Int(double) }
        throw InputError(field: name, "must be an integer, not \(Self.kind(value))")
    }

    func double(_ name: String) throws -> Double? {
        guard has(name), let value = values[name] else { return nil }
        if let double = value.doubleValue { return double }
        if let int = value.intValue { return Double(int) }
        throw InputError(field: name, "must be a number, not \(Self.kind(value))")
    }

    func bool(_ name: String) throws -> Bool? {
        guard has(name), let value = values[name] else { return nil }
        guard let bool = value.boolValue else { throw InputError(field: name, "must be true or false, not \(Self.kind(value))") }
        return bool
    }

    func oneOf(_ name: String, _ allowed: [String]) throws -> String? {
        guard let value = try string(name) else { return nil }
        guard allowed.contains(value) else {
            throw InputError(field: name, "must be \(allowed.joined(separator: ", ")), not `\(value)`")
        }
        return value
    }

    static func kind(_ value: Value) -> String {
        switch value {
        case .null: "null"
        case .bool: "a boolean"
        case .int, .double: "a number"
        case .string: "a string"
        case .data: "data"
        case .array: "an array"
        case .object: "an object"
        }
    }
}
