import ConvergeCore
import Foundation
import Yams

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
