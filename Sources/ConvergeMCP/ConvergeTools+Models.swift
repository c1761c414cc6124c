import ConvergeCore
import Foundation
import MCP

extension ConvergeTools {
    /// `models`: every provider known (built in and from converge.yaml), its base URL (credentials removed)
    /// and whether its key variable is set, and the config's panels. A key's value is never read out.
    func models(_ arguments: [String: Value]?) throws -> CallTool.Result {
        _ = try ToolArguments(arguments, allowed: [])
        let directory = context.directory
        var rows: [Value] = []
        var lines: [String] = []
        for name in directory.definitions.keys.sorted() {
            let definition = directory.definitions[name]!
            var row: [String: Value] = ["name": .string(name), "kind": .string(definition.kind.rawValue)]
            let baseURL: String
            do {
                baseURL = Self.withoutCredentials(try directory.baseURL(for: definition))
            } catch {
                baseURL = Self.withoutCredentials(definition.baseURL)
                row["error"] = .string(error.description)
            }
            row["baseURL"] = .string(baseURL)
            var keyState = "no key needed"
            if let variable = definition.apiKeyVariable {
                let set = !(directory.environment[variable] ?? "").isEmpty
                row["key"] = .object(["variable": .string(variable), "set": .bool(set), "required": .bool(definition.keyRequired)])
                keyState = "\(variable) \(set ? "set" : definition.keyRequired ? "not set" : "not set (optional)")"
            }
            rows.append(.object(row))
            lines.append("\(name) (\(definition.kind.rawValue)) \(baseURL): \(keyState)")
        }
        let panels = context.config.panels.mapValues { entries in Value.array(entries.map { .string($0.spec.description) }) }
        return CallTool.Result(content: [.plain(lines.joined(separator: "\n"))],
                               structuredContent: .object(["providers": .array(rows), "panels": .object(panels)]))
    }

    /// A URL with any `user:password@` replaced, so that a secret in a base URL is never shown.
    static func withoutCredentials(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.user != nil || components.password != nil
        else { return url }
        components.user = "<redacted>"
        components.password = nil
        return components.string ?? "<redacted>"
    }
}
