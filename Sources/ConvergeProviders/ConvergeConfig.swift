import ConvergeCore
import Foundation
import Yams

/// The contents of `converge.yaml` that concern collecting answers.
///
/// ```yaml
/// concurrency: 8              # optional: most requests in flight in all
/// timeout: 120                # optional: per-request timeout, seconds
/// max_attempts: 4             # optional: attempts per request, the first included
/// providers:
///   openai:                   # a built-in: any field below overrides its default
///     max_concurrency: 2
///   local:                    # a new provider, used as local/MODEL
///     kind: openai            # openai | anthropic | gemini
///     base_url: http://127.0.0.1:8080/v1
///     api_key_env: LOCAL_KEY  # optional; when given, the key is required
///     max_concurrency: 1      # optional
/// panels:
///   default: [openai/gpt-4o, anthropic/claude-sonnet-4-5]
///   mixed:
///     - gemini/gemini-2.5-pro
///     - {model: ollama/llama3.2, id: llama, label: Llama 3.2}
///     - {model: ollama/llama3.2, id: llama-hot, temperature: 1.2, system: Answer tersely.}
/// prices:                     # optional: US dollars per million tokens, by model spec (batch reports)
///   openai/gpt-4o: {input: 2.5, output: 10}
/// ```
/// Other top-level keys belong to other parts of Converge and are ignored here.
public struct ConvergeConfig: Sendable, Hashable {
    /// Settings for one provider; `nil` fields keep the built-in default.
    public struct ProviderSettings: Sendable, Hashable {
        public var kind: ProviderKind?
        public var baseURL: String?
        public var apiKeyVariable: String?
        public var maxConcurrency: Int?

        public init(kind: ProviderKind? = nil, baseURL: String? = nil, apiKeyVariable: String? = nil,
                    maxConcurrency: Int? = nil) {
            self.kind = kind
            self.baseURL = baseURL
            self.apiKeyVariable = apiKeyVariable
            self.maxConcurrency = maxConcurrency
        }
    }

    /// Provider settings by lower-cased name.
    public var providers: [String: ProviderSettings]
    /// Named panels.
    public var panels: [String: [PanelEntry]]
    /// Most requests in flight in all.
    public var concurrency: Int?
    /// Per-request timeout, seconds.
    public var timeoutSeconds: Double?
    /// Attempts per request, the first included.
    public var maxAttempts: Int?
    /// Prices by model spec (`provider/model`, as written); a model without one costs "unknown".
    public var prices: [String: ModelPrice] = [:]
    /// The file this was read from, if any.
    public var file: String?

    public init(providers: [String: ProviderSettings] = [:], panels: [String: [PanelEntry]] = [:],
                concurrency: Int? = nil, timeoutSeconds: Double? = nil, maxAttempts: Int? = nil,
                file: String? = nil) {
        self.providers = providers
        self.panels = panels
        self.concurrency = concurrency
        self.timeoutSeconds = timeoutSeconds
        self.maxAttempts = maxAttempts
        self.file = file
    }

    /// The environment variable naming a config file.
    public static let pathVariable = "CONVERGE_CONFIG"

    /// Finds the config file, first match wins: `explicitPath` (the `--config` flag; must exist), then
    /// `$CONVERGE_CONFIG` (must exist), then `./converge.yaml`, then `$XDG_CONFIG_HOME/converge/converge.yaml`
    /// (`$XDG_CONFIG_HOME` defaults to `$HOME/.config`).
    ///
    /// - Returns: the path, or `nil` when there is no config file (that is not an error).
    /// - Throws: `InputError` when the flag or `CONVERGE_CONFIG` names a file that does not exist.
    public static func locate(explicitPath: String? = nil,
                              environment: [String: String] = ProcessInfo.processInfo.environment,
                              currentDirectory: String = FileManager.default.currentDirectoryPath) throws -> String? {
        let fm = FileManager.default
        if let explicitPath {
            guard fm.fileExists(atPath: explicitPath) else { throw InputError(file: explicitPath, "no such config file") }
            return explicitPath
        }
        if let fromEnv = environment[pathVariable], !fromEnv.isEmpty {
            guard fm.fileExists(atPath: fromEnv) else {
                throw InputError(file: fromEnv, "no such config file (named by \(pathVariable))")
            }
            return fromEnv
        }
        let local = URL(fileURLWithPath: currentDirectory).appendingPathComponent("converge.yaml").path
        if fm.fileExists(atPath: local) { return local }
        let xdg = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? environment["HOME"].map { $0 + "/.config" }
        if let xdg {
            let path = URL(fileURLWithPath: xdg).appendingPathComponent("converge/converge.yaml").path
            if fm.fileExists(atPath: path) { return path }
        }
        return nil
    }

    /// Locates (see ``locate(explicitPath:environment:currentDirectory:)``) and loads the config; an empty
    /// config when there is no file.
    public static func load(explicitPath: String? = nil,
                            environment: [String: String] = ProcessInfo.processInfo.environment,
                            currentDirectory: String = FileManager.default.currentDirectoryPath) throws -> ConvergeConfig {
        guard let path = try locate(explicitPath: explicitPath, environment: environment,
                                    currentDirectory: currentDirectory) else { return ConvergeConfig() }
        // Same checks as every other input file: a folder, a device, binary or non-UTF-8 text is named as such.
        return try ConvergeConfig(yaml: SurveyFolder.readText(path), file: path)
    }

    /// Parses `converge.yaml` text.
    ///
    /// - Throws: `InputError` with file, line, column and field for YAML errors, mistyped fields, an unknown
    ///   `kind`, a new provider without `kind` or `base_url`, a bad base URL, a non-positive cap, and panel
    ///   entries that are not valid model specs.
    public init(yaml: String, file: String = "converge.yaml") throws {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw InputError(file: file, "YAML error: \(error)")
        }
        self.init(file: file)
        guard let root else { return }
        guard let mapping = root.mapping else {
            throw InputError(file: file, line: root.mark?.line, "the config file is a mapping (providers, panels, ...)")
        }
        func fail(_ node: Node?, _ field: String, _ message: String) -> InputError {
            InputError(file: file, line: node?.mark?.line, column: node?.mark?.column, field: field, message)
        }
        func positiveInt(_ node: Node, _ field: String) throws -> Int {
            guard node.scalar != nil, let value = node.int, value > 0 else {
                throw fail(node, field, "`\(field)` must be a positive integer")
            }
            return value
        }
        func string(_ node: Node, _ field: String) throws -> String {
            guard node.scalar != nil, let value = node.string?.trimmingWhitespace, !value.isEmpty else {
                throw fail(node, field, "`\(field)` must be a non-empty string")
            }
            return value
        }
        for (keyNode, value) in mapping {
            guard let key = keyNode.string else { continue }
            switch key {
            case "concurrency":
                concurrency = try positiveInt(value, key)
            case "max_attempts":
                maxAttempts = try positiveInt(value, key)
            case "timeout":
                guard value.scalar != nil, let seconds = value.float, RequestLimits.isTimeout(seconds) else {
                    throw fail(value, key, "`timeout` must be a positive number of seconds, \(RequestLimits.maxTimeoutInWords)")
                }
                timeoutSeconds = seconds
            case "providers":
                guard let entries = value.mapping else {
                    throw fail(value, key, "`providers` must be a mapping of provider name to settings")
                }
                for (nameNode, settingsNode) in entries {
                    let name = try string(nameNode, "providers").lowercased()
                    let path = "providers.\(name)"
                    guard !name.contains("/"),
                          name.unicodeScalars.allSatisfy({ CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "_" || $0 == "." })
                    else { throw fail(nameNode, path, "a provider name is letters, digits, '-', '_' and '.'") }
                    guard let settingsMap = settingsNode.mapping else {
                        throw fail(settingsNode, path, "provider settings are a mapping (kind, base_url, api_key_env, max_concurrency)")
                    }
                    var settings = ProviderSettings()
                    for (fieldNode, fieldValue) in settingsMap {
                        guard let field = fieldNode.string else { continue }
                        let fieldPath = "\(path).\(field)"
                        switch field {
                        case "kind":
                            let text = try string(fieldValue, fieldPath)
                            guard let kind = ProviderKind(configName: text) else {
                                throw fail(fieldValue, fieldPath, "unknown kind `\(text)` (openai, anthropic, gemini)")
                            }
                            settings.kind = kind
                        case "base_url":
                            let text = try string(fieldValue, fieldPath)
                            guard let url = URL(string: text), let scheme = url.scheme?.lowercased(),
                                  scheme == "http" || scheme == "https", url.host != nil else {
                                throw fail(fieldValue, fieldPath, "`base_url` must be an http:// or https:// URL")
                            }
                            settings.baseURL = text
                        case "api_key_env":
                            settings.apiKeyVariable = try string(fieldValue, fieldPath)
                        case "max_concurrency":
                            settings.maxConcurrency = try positiveInt(fieldValue, fieldPath)
                        default:
                            throw fail(fieldNode, fieldPath,
                                       "unknown field `\(field)` (kind, base_url, api_key_env, max_concurrency)")
                        }
                    }
                    let builtIn = ProviderDefinition.builtIn.contains { $0.name == name }
                    if !builtIn {
                        guard settings.kind != nil else { throw fail(settingsNode, path, "a new provider needs `kind`") }
                        guard settings.baseURL != nil else {
                            throw fail(settingsNode, path, "a new provider needs `base_url`")
                        }
                    }
                    providers[name] = settings
                }
            case "panels":
                guard let entries = value.mapping else {
                    throw fail(value, key, "`panels` must be a mapping of panel name to a list of model specs")
                }
                for (nameNode, listNode) in entries {
                    let name = try string(nameNode, "panels")
                    let path = "panels.\(name)"
                    guard let list = listNode.sequence, !list.isEmpty else {
                        throw fail(listNode, path, "a panel is a non-empty list of model specs")
                    }
                    var members: [PanelEntry] = []
                    for (index, item) in list.enumerated() {
                        let itemPath = "\(path)[\(index)]"
                        var specText: String
                        var id: String?
                        var label: String?
                        var system: String?
                        var temperature: Double?
                        var specNode = item
                        if let itemMap = item.mapping {
                            guard let modelNode = itemMap["model"] else {
                                throw fail(item, itemPath, "a panel member is a spec or a mapping with `model`")
                            }
                            specNode = modelNode
                            specText = try string(modelNode, "\(itemPath).model")
                            if let idNode = itemMap["id"] { id = try string(idNode, "\(itemPath).id") }
                            if let labelNode = itemMap["label"] { label = try string(labelNode, "\(itemPath).label") }
                            if let systemNode = itemMap["system"] { system = try string(systemNode, "\(itemPath).system") }
                            if let node = itemMap["temperature"] {
                                guard node.scalar != nil, let value = node.float, RequestLimits.temperature.contains(value) else {
                                    throw fail(node, "\(itemPath).temperature",
                                               "`temperature` must be a number \(RequestLimits.temperatureInWords)")
                                }
                                temperature = value
                            }
                        } else {
                            specText = try string(item, itemPath)
                        }
                        do {
                            members.append(PanelEntry(spec: try ModelSpec(parsing: specText), id: id, label: label,
                                                      system: system, temperature: temperature))
                        } catch {
                            throw fail(specNode, itemPath, error.description)
                        }
                    }
                    panels[name] = members
                }
            case "prices":
                prices = try Self.prices(value, fail: fail)
            default:
                continue
            }
        }
    }

    /// `prices: {SPEC: {input: DOLLARS, output: DOLLARS}}`, dollars per million tokens, each at least 0.
    private static func prices(_ node: Node, fail: (Node?, String, String) -> InputError) throws -> [String: ModelPrice] {
        guard let entries = node.mapping else {
            throw fail(node, "prices", "`prices` must be a mapping of model spec to {input, output} dollars per million tokens")
        }
        var prices: [String: ModelPrice] = [:]
        for (specNode, priceNode) in entries {
            let spec = specNode.string ?? ""
            let path = "prices.\(spec)"
            func dollars(_ field: String) throws -> Double {
                guard let value = priceNode.mapping?[field], value.scalar != nil, let number = value.float,
                      number.isFinite, number >= 0 else {
                    throw fail(priceNode.mapping?[field] ?? priceNode, "\(path).\(field)",
                               "`\(field)` must be a number of dollars per million tokens, at least 0")
                }
                return number
            }
            guard priceNode.mapping != nil else {
                throw fail(priceNode, path, "a price is a mapping {input, output} of dollars per million tokens")
            }
            prices[spec] = ModelPrice(inputPerMillion: try dollars("input"), outputPerMillion: try dollars("output"))
        }
        return prices
    }

    /// The named panel.
    /// - Throws: `InputError` naming the known panels when there is none by that name.
    public func panel(named name: String) throws -> [PanelEntry] {
        guard let panel = panels[name] else {
            let known = panels.keys.sorted()
            throw InputError(file: file, field: "panels",
                             "no panel named `\(name)`" + (known.isEmpty ? " (the config defines none)"
                                 : " (known: \(known.joined(separator: ", ")))"))
        }
        return panel
    }
}
