/// Builds the client for an endpoint's wire format.
public enum ProviderFactory {
    /// The client for `endpoint`: ``OpenAIChatProvider``, ``AnthropicProvider`` or ``GeminiProvider``.
    public static func make(endpoint: ProviderEndpoint, transport: HTTPTransport = HTTPTransport()) -> any LLMProvider {
        switch endpoint.kind {
        case .openAI: return OpenAIChatProvider(endpoint: endpoint, transport: transport)
        case .anthropic: return AnthropicProvider(endpoint: endpoint, transport: transport)
        case .gemini: return GeminiProvider(endpoint: endpoint, transport: transport)
        }
    }
}

extension ProviderDirectory {
    /// The client for a spec's provider.
    /// - Throws: as ``endpoint(for:)``: unknown provider, missing API key (naming the variable), bad base URL.
    public func provider(for spec: ModelSpec, transport: HTTPTransport = HTTPTransport()) throws(ProviderError)
        -> any LLMProvider {
        ProviderFactory.make(endpoint: try endpoint(for: spec.provider), transport: transport)
    }
}
