import ConvergeCore
import Foundation
import Yams

/// The wire format a provider speaks.
public enum ProviderKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// OpenAI Chat Completions (`POST {base}/chat/completions`, `Authorization: Bearer`): OpenAI, OpenRouter,
    /// Ollama, vLLM, llama.cpp server, LM Studio and any compatible server.
    case openAI = "openai"
    /// Anthropic Messages (`POST {base}/v1/messages`, `x-api-key`, `anthropic-version`).
    case anthropic
    /// Google Gemini generateContent (`POST {base}/v1beta/models/{model}:generateContent`, `x-goog-api-key`).
    case gemini

    /// Parses a config-file `kind`: `openai` (also `openai-compatible`, `openai_compatible`), `anthropic`,
    /// `gemini` (also `google`); case-insensitive.
    public init?(configName: String) {
        switch configName.lowercased() {
        case "openai", "openai-compatible", "openai_compatible", "openai-chat": self = .openAI
        case "anthropic": self = .anthropic
        case "gemini", "google": self = .gemini
        default: return nil
        }
    }
}

/// An API key. It prints as `<redacted>` everywhere (description, debug description, reflection), so it
/// cannot reach a log line or an error message by accident; only the HTTP clients read ``value``.
public struct APIKey: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The secret itself. Read it only to put it in a request header.
    public let value: String

    public init(_ value: String) { self.value = value }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}

/// How to reach one provider, before the environment is consulted.
public struct ProviderDefinition: Sendable, Hashable {
    /// The name used in model specs (`openai`, `local`), lower-cased.
    public var name: String
    public var kind: ProviderKind
    /// The default base URL (see ``ProviderKind`` for what is appended to it).
    public var baseURL: String
    /// The environment variable that overrides ``baseURL`` (`OPENAI_BASE_URL`, `OLLAMA_HOST`), if any.
    public var baseURLVariable: String?
    /// The environment variable holding the API key (`OPENAI_API_KEY`), if the provider takes one.
    public var apiKeyVariable: String?
    /// Whether a request may not be sent without the key (`false` for local servers: the key is sent when set).
    public var keyRequired: Bool
    /// The most requests in flight to this provider at once, if capped.
    public var maxConcurrency: Int?

    public init(name: String, kind: ProviderKind, baseURL: String, baseURLVariable: String? = nil,
                apiKeyVariable: String? = nil, keyRequired: Bool = true, maxConcurrency: Int? = nil) {
        self.name = name.lowercased()
        self.kind = kind
        self.baseURL = baseURL
        self.baseURLVariable = baseURLVariable
        self.apiKeyVariable = apiKeyVariable
        self.keyRequired = keyRequired
        self.maxConcurrency = maxConcurrency
    }

    /// The built-in providers (README.md, "Ask a live panel"):
    ///
    /// | name | kind | default base URL | base URL variable | key variable |
    /// |---|---|---|---|---|
    /// | openai | openai | https://api.openai.com/v1 | OPENAI_BASE_URL | OPENAI_API_KEY (required) |
    /// | openrouter | openai | https://openrouter.ai/api/v1 | OPENROUTER_BASE_URL | OPENROUTER_API_KEY (required) |
    /// | anthropic | anthropic | https://api.anthropic.com | ANTHROPIC_BASE_URL | ANTHROPIC_API_KEY (required) |
    /// | gemini | gemini | https://generativelanguage.googleapis.com | GEMINI_BASE_URL | GEMINI_API_KEY (required) |
    /// | ollama | openai | http://127.0.0.1:11434 + `/v1` | OLLAMA_HOST (host[:port] or URL) | none |
    /// | vllm | openai | http://127.0.0.1:8000/v1 | VLLM_BASE_URL | VLLM_API_KEY (optional) |
    /// | llamacpp | openai | http://127.0.0.1:8080/v1 | LLAMACPP_BASE_URL | LLAMACPP_API_KEY (optional) |
    /// | lmstudio | openai | http://127.0.0.1:1234/v1 | LMSTUDIO_BASE_URL | LMSTUDIO_API_KEY (optional) |
    public static let builtIn: [ProviderDefinition] = [
        ProviderDefinition(name: "openai", kind: .openAI, baseURL: "https://api.openai.com/v1",
                           baseURLVariable: "OPENAI_BASE_URL", apiKeyVariable: "OPENAI_API_KEY"),
        ProviderDefinition(name: "openrouter", kind: .openAI, baseURL: "https://openrouter.ai/api/v1",
                           baseURLVariable: "OPENROUTER_BASE_URL", apiKeyVariable: "OPENROUTER_API_KEY"),
        ProviderDefinition(name: "anthropic", kind: .anthropic, baseURL: "https://api.anthropic.com",
                           baseURLVariable: "ANTHROPIC_BASE_URL", apiKeyVariable: "ANTHROPIC_API_KEY"),
        ProviderDefinition(name: "gemini", kind: .gemini, baseURL: "https://generativelanguage.googleapis.com",
                           baseURLVariable: "GEMINI_BASE_URL", apiKeyVariable: "GEMINI_API_KEY"),
        ProviderDefinition(name: "ollama", kind: .openAI, baseURL: "http://127.0.0.1:11434/v1",
                           baseURLVariable: "OLLAMA_HOST", apiKeyVariable: nil, keyRequired: false),
        ProviderDefinition(name: "vllm", kind: .openAI, baseURL: "http://127.0.0.1:8000/v1",
                           baseURLVariable: "VLLM_BASE_URL", apiKeyVariable: "VLLM_API_KEY", keyRequired: false),
        ProviderDefinition(name: "llamacpp", kind: .openAI, baseURL: "http://127.0.0.1:8080/v1",
                           baseURLVariable: "LLAMACPP_BASE_URL", apiKeyVariable: "LLAMACPP_API_KEY",
                           keyRequired: false),
        ProviderDefinition(name: "lmstudio", kind: .openAI, baseURL: "http://127.0.0.1:1234/v1",
                           baseURLVariable: "LMSTUDIO_BASE_URL", apiKeyVariable: "LMSTUDIO_API_KEY",
                           keyRequired: false),
    ]
}

/// A provider ready to be called: definition + environment applied.
public struct ProviderEndpoint: Sendable, Hashable, CustomStringConvertible {
    public var name: String
    public var kind: ProviderKind
    /// The effective base URL, without a trailing `/`.
    public var baseURL: String
    /// The key, when the provider takes one and its variable is set.
    public var apiKey: APIKey?
    /// The variable the key was (or would have been) read from.
    public var apiKeyVariable: String?
    /// The most requests in flight to this provider at once, if capped.
    public var maxConcurrency: Int?

    public init(name: String, kind: ProviderKind, baseURL: String, apiKey: APIKey? = nil,
                apiKeyVariable: String? = nil, maxConcurrency: Int? = nil) {
        self.name = name
        self.kind = kind
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.apiKey = apiKey
        self.apiKeyVariable = apiKeyVariable
        self.maxConcurrency = maxConcurrency
    }

    /// `kind baseURL`, with any `user:password@` taken out of the URL: what identifies the server in the
    /// response cache (and is stored with each request), never a credential.
    public var identity: String {
        var url = baseURL
        if let scheme = url.range(of: "://"), let at = url[scheme.upperBound...].firstIndex(of: "@"),
           !url[scheme.upperBound..<at].contains("/") {
            url.removeSubrange(scheme.upperBound...at)
        }
        return "\(kind.rawValue) \(url)"
    }

    /// `name (kind) at baseURL`; never the key.
    public var description: String { "\(name) (\(kind.rawValue)) at \(baseURL)" }
}

/// One member of a named panel in the config file: a spec and, optionally, the panelist's id and label.
public struct PanelEntry: Sendable, Hashable {
    public var spec: ModelSpec
    public var id: String?
    public var label: String?
    /// This panelist's own system prompt and temperature (`system:`, `temperature:`), when set.
    public var system: String?
    public var temperature: Double?

    public init(spec: ModelSpec, id: String? = nil, label: String? = nil, system: String? = nil,
                temperature: Double? = nil) {
        self.spec = spec
        self.id = id
        self.label = label
        self.system = system
        self.temperature = temperature
    }

    /// Panelists for the entries, in order: a given id/label is kept; otherwise as
    /// ``ModelSpec/panelists(for:)``. Ids stay unique (`-2`, `-3` appended to repeats).
    public static func panelists(for entries: [PanelEntry]) -> [Panelist] {
        let defaults = ModelSpec.panelists(for: entries.map(\.spec))
        var used = Set<String>()
        let panelists = zip(entries, defaults).map { entry, fallback in
            var id = entry.id ?? fallback.id
            if used.contains(id) {
                var n = 2
                while used.contains("\(id)-\(n)") { n += 1 }
                id = "\(id)-\(n)"
            }
            used.insert(id)
            // A panelist given an id but no label is shown by its id ("cold", not the shared spec).
            let label = entry.label ?? (entry.id != nil ? id : fallback.label)
            return Panelist(id: id, label: label, model: entry.spec.description)
        }
        // Labels must tell panelists apart: a repeated one gets its id added.
        var counts: [String: Int] = [:]
        for p in panelists { counts[p.label, default: 0] += 1 }
        return panelists.map { p in
            counts[p.label]! > 1 ? Panelist(id: p.id, label: "\(p.label) (\(p.id))", model: p.model) : p
        }
    }
}

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
                                guard node.scalar != nil, let value = node.float, value >= 0 else {
                                    throw fail(node, "\(itemPath).temperature", "`temperature` must be a number >= 0")
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
            default:
                continue
            }
        }
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

/// Resolves provider names to endpoints: built-ins, then the config file's settings, then the environment
/// (base URL variables override the file; keys come from the environment only).
public struct ProviderDirectory: Sendable {
    public let definitions: [String: ProviderDefinition]
    public let environment: [String: String]

    /// - Parameters:
    ///   - config: the config file's contents (may be empty).
    ///   - environment: the process environment (or a test's); keys and base URL overrides are read from it.
    public init(config: ConvergeConfig = ConvergeConfig(),
                environment: [String: String] = ProcessInfo.processInfo.environment) {
        var definitions: [String: ProviderDefinition] = [:]
        for definition in ProviderDefinition.builtIn { definitions[definition.name] = definition }
        for (name, settings) in config.providers {
            if var definition = definitions[name] {
                if let kind = settings.kind { definition.kind = kind }
                if let baseURL = settings.baseURL { definition.baseURL = baseURL }
                if let variable = settings.apiKeyVariable {
                    definition.apiKeyVariable = variable
                    definition.keyRequired = true
                }
                if let cap = settings.maxConcurrency { definition.maxConcurrency = cap }
                definitions[name] = definition
            } else if let kind = settings.kind, let baseURL = settings.baseURL {
                definitions[name] = ProviderDefinition(
                    name: name, kind: kind, baseURL: baseURL, baseURLVariable: nil,
                    apiKeyVariable: settings.apiKeyVariable, keyRequired: settings.apiKeyVariable != nil,
                    maxConcurrency: settings.maxConcurrency)
            }
        }
        self.definitions = definitions
        self.environment = environment
    }

    /// The endpoint for a provider name.
    ///
    /// - Throws: ``ProviderError/unknownProvider(_:known:)``; ``ProviderError/missingAPIKey(provider:variable:)``
    ///   when the key is required and its variable is unset or blank;
    ///   ``ProviderError/invalidConfiguration(_:)`` for a base URL override that is not an http(s) URL.
    public func endpoint(for provider: String) throws(ProviderError) -> ProviderEndpoint {
        let name = provider.lowercased()
        guard let definition = definitions[name] else {
            throw .unknownProvider(provider, known: definitions.keys.sorted())
        }
        let baseURL = try baseURL(for: definition)
        var key: APIKey?
        if let variable = definition.apiKeyVariable {
            if let value = environment[variable]?.trimmingWhitespace, !value.isEmpty {
                key = APIKey(value)
            } else if definition.keyRequired {
                throw .missingAPIKey(provider: name, variable: variable)
            }
        }
        return ProviderEndpoint(name: name, kind: definition.kind, baseURL: baseURL, apiKey: key,
                                apiKeyVariable: definition.apiKeyVariable, maxConcurrency: definition.maxConcurrency)
    }

    /// The base URL a provider is reached at: its definition's, or the environment's override.
    ///
    /// - Throws: ``ProviderError/invalidConfiguration(_:)`` for an override that is not an http(s) URL.
    public func baseURL(for definition: ProviderDefinition) throws(ProviderError) -> String {
        guard let variable = definition.baseURLVariable, let override = environment[variable]?.trimmingWhitespace,
              !override.isEmpty else { return definition.baseURL }
        let baseURL = variable == "OLLAMA_HOST" ? Self.ollamaBaseURL(fromHost: override) : override
        guard let url = URL(string: baseURL), let scheme = url.scheme?.lowercased(),
              scheme == "http" || scheme == "https", url.host != nil else {
            throw .invalidConfiguration("\(variable) must be an http:// or https:// URL")
        }
        return baseURL
    }

    /// Resolves every spec before anything is sent, in order; the first problem is thrown (a missing key
    /// names its variable).
    public func endpoints(for specs: [ModelSpec]) throws(ProviderError) -> [ProviderEndpoint] {
        var result: [ProviderEndpoint] = []
        for spec in specs { result.append(try endpoint(for: spec.provider)) }
        return result
    }

    /// `OLLAMA_HOST` is `host`, `host:port` or a URL (Ollama's own convention); the OpenAI-compatible API is
    /// under `/v1`. `0.0.0.0` (a listen address) is reached as `127.0.0.1`; the port defaults to 11434.
    static func ollamaBaseURL(fromHost value: String) -> String {
        var text = value
        if !text.contains("://") { text = "http://" + text }
        guard var components = URLComponents(string: text) else { return text }
        if components.host == "0.0.0.0" || components.host == "" { components.host = "127.0.0.1" }
        if components.port == nil { components.port = 11434 }
        var path = components.path
        while path.hasSuffix("/") { path.removeLast() }
        if !path.hasSuffix("/v1") { path += "/v1" }
        components.path = path
        return components.string ?? text
    }
}
