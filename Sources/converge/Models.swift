import ArgumentParser
import ConvergeProviders
import Foundation

/// `converge models`: the providers known, their base URLs, and whether each key is set (never the key).
struct Models: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the providers known, their base URLs, and whether each API key is set."
    )

    @Option(help: "Configuration file (default: ./converge.yaml, then $XDG_CONFIG_HOME/converge/converge.yaml).")
    var config: String?

    /// A URL with any `user:password@` replaced, so that a secret in a base URL is never printed.
    static func withoutCredentials(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.user != nil || components.password != nil
        else { return url }
        components.user = "<redacted>"
        components.password = nil
        return components.string ?? "<redacted>"
    }

    func run() throws {
        let configuration = try ConvergeConfig.load(explicitPath: config)
        let directory = ProviderDirectory(config: configuration)
        if let file = configuration.file { print("config: \(file)") }
        var rows: [[String]] = [["provider", "kind", "base URL", "key"]]
        for name in directory.definitions.keys.sorted() {
            let definition = directory.definitions[name]!
            let keyState: String
            if let variable = definition.apiKeyVariable {
                let value = directory.environment[variable] ?? ""
                keyState = value.isEmpty ? (definition.keyRequired ? "\(variable) not set" : "\(variable) not set (optional)")
                    : "\(variable) set"
            } else {
                keyState = "no key needed"
            }
            let baseURL: String
            do {
                baseURL = try directory.baseURL(for: definition)
            } catch {
                baseURL = "\(definition.baseURL) (\(error.description))"
            }
            rows.append([name, definition.kind.rawValue, Self.withoutCredentials(baseURL), keyState])
        }
        let widths = (0..<4).map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            print(zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces))
        }
        if !configuration.panels.isEmpty {
            print("\npanels:")
            for name in configuration.panels.keys.sorted() {
                print("  \(name): " + configuration.panels[name]!.map(\.spec.description).joined(separator: ", "))
            }
        }
    }
}
