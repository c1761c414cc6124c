import ConvergeCore
import Foundation

/// A model spec: `provider/model` (ARCHITECTURE.md, "Terms").
///
/// The provider is everything before the first `/`; the model is everything after it, kept verbatim, so
/// `openrouter/meta-llama/llama-3.3-70b-instruct` is provider `openrouter`, model
/// `meta-llama/llama-3.3-70b-instruct`. The provider is either a built-in name (`openai`, `anthropic`,
/// `gemini`, `openrouter`, `ollama`, `vllm`, `llamacpp`, `lmstudio`) or a provider named in the config file
/// (see ``ConvergeConfig``). Provider names are case-insensitive and stored lower-cased.
public struct ModelSpec: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The provider name, lower-cased (`openai`, `anthropic`, a config-file name, ...).
    public var provider: String
    /// The model name as the provider's API expects it (`gpt-4o`, `meta-llama/llama-3.3-70b-instruct`).
    public var model: String

    public init(provider: String, model: String) {
        self.provider = provider.lowercased()
        self.model = model
    }

    /// Parses `provider/model`.
    ///
    /// - Throws: ``ProviderError/invalidModelSpec(_:reason:)`` when there is no `/`, the provider or the model
    ///   is empty, or the spec contains whitespace.
    public init(parsing text: String) throws(ProviderError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { throw .invalidModelSpec(text, reason: "the spec is empty") }
        guard !trimmed.contains(where: { $0.isWhitespace }) else {
            throw .invalidModelSpec(text, reason: "a model spec contains no spaces")
        }
        guard let slash = trimmed.firstIndex(of: "/") else {
            throw .invalidModelSpec(text, reason: "expected provider/model, e.g. openai/gpt-4o")
        }
        let provider = String(trimmed[..<slash])
        let model = String(trimmed[trimmed.index(after: slash)...])
        guard !provider.isEmpty else { throw .invalidModelSpec(text, reason: "the provider (before '/') is empty") }
        guard !model.isEmpty else { throw .invalidModelSpec(text, reason: "the model (after '/') is empty") }
        self.init(provider: provider, model: model)
    }

    /// `provider/model`.
    public var description: String { "\(provider)/\(model)" }

    /// A panelist id derived from the spec: the model's last path component, lower-cased, with characters
    /// other than letters, digits, `.`, `-` and `_` replaced by `-` (`openrouter/meta-llama/Llama-3.3` ->
    /// `llama-3.3`). Use ``panelists(for:)`` to make the ids of a whole panel unique.
    public var defaultPanelistID: String {
        let last = model.split(separator: "/").last.map(String.init) ?? model
        let mapped = last.lowercased().unicodeScalars.map { scalar -> Character in
            let c = Character(scalar)
            return (c.isLetter || c.isNumber || c == "." || c == "-" || c == "_") && scalar.isASCII ? c : "-"
        }
        let id = String(mapped)
        return id.isEmpty ? provider : id
    }

    /// Panelists for a list of specs, in order: id from ``defaultPanelistID`` (made unique by appending
    /// `-2`, `-3`, ... on repeats), label = the spec, model = the spec.
    public static func panelists(for specs: [ModelSpec]) -> [Panelist] {
        var used: [String: Int] = [:]
        return specs.map { spec in
            let base = spec.defaultPanelistID
            var id = base
            if let count = used[base] {
                var n = count + 1
                while used[base + "-\(n)"] != nil { n += 1 }
                id = base + "-\(n)"
                used[base] = n
            }
            used[id] = used[id] ?? 1
            return Panelist(id: id, label: spec.description, model: spec.description)
        }
    }
}
