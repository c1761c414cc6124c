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
