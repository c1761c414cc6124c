import ConvergeProviders

/// One model that Converge itself asks (a judge, a rubric drafter): its provider, generation settings and
/// limits, with the same retry policy as panel requests.
public struct ModelClient: Sendable {
    /// The model spec as the user gave it (`openai/gpt-4o`).
    public var spec: String
    public var provider: any LLMProvider
    /// The model name as the provider expects it.
    public var model: String
    public var parameters: GenerationParameters
    /// Longest one request may take.
    public var timeout: Duration
    public var retry: RetryPolicy
    /// Answers identical requests from earlier ones and keeps new answers (`nil`: always the network).
    public var cache: (any ModelCallCache)?

    public init(spec: String, provider: any LLMProvider, model: String,
                parameters: GenerationParameters = GenerationParameters(temperature: 0),
                timeout: Duration = .seconds(300), retry: RetryPolicy = .default, cache: (any ModelCallCache)? = nil) {
        self.spec = spec
        self.provider = provider
        self.model = model
        self.parameters = parameters
        self.timeout = timeout
        self.retry = retry
        self.cache = cache
    }

    /// One answer and whether it came from ``cache`` instead of the network.
    public struct Call: Sendable {
        public var response: ChatResponse
        public var fromCache: Bool
    }

    /// A client for `spec` with the defaults above, its provider and key resolved through `directory`, and
    /// `maxAttempts` attempts per request when given (the config file's `max_attempts`, as for panel requests).
    /// - Throws: `ProviderError` as ``ProviderDirectory/provider(for:transport:)``: an unknown provider, a
    ///   missing key (naming its variable), a bad base URL.
    public init(resolving spec: ModelSpec, directory: ProviderDirectory, maxAttempts: Int? = nil) throws(ProviderError) {
        self.init(spec: spec.description, provider: try directory.provider(for: spec), model: spec.model)
        if let maxAttempts { retry.maxAttempts = max(1, maxAttempts) }
    }

    /// ``init(resolving:directory:maxAttempts:)`` for a spec still to parse.
    /// - Throws: `ProviderError.invalidModelSpec` for a spec that does not parse, then as the other.
    public init(resolving spec: String, directory: ProviderDirectory, maxAttempts: Int? = nil) throws(ProviderError) {
        try self.init(resolving: try ModelSpec(parsing: spec), directory: directory, maxAttempts: maxAttempts)
    }

    /// One request, retried as `retry` decides.
    public func send(_ messages: [ChatMessage]) async throws(ProviderError) -> ChatResponse {
        try await call(messages).response
    }

    /// One request: answered from ``cache`` when an identical one was answered before, else sent (retried as
    /// `retry` decides) and its answer kept in the cache.
    public func call(_ messages: [ChatMessage]) async throws(ProviderError) -> Call {
        let request = ChatRequest(model: model, messages: messages, parameters: parameters)
        if let cache, let cached = await cache.answer(to: request, identity: provider.identity) {
            return Call(response: cached, fromCache: true)
        }
        let response = try await network(request)
        await cache?.keep(response, for: request, identity: provider.identity)
        return Call(response: response, fromCache: false)
    }

    private func network(_ request: ChatRequest) async throws(ProviderError) -> ChatResponse {
        var attempt = 1
        while true {
            do {
                return try await provider.complete(request, timeout: timeout)
            } catch {
                // `complete` throws ProviderError only (its contract); anything else counts as a broken connection.
                let error = error as? ProviderError ?? .connection(String(describing: error))
                switch retry.decide(after: error, attempt: attempt) {
                case .giveUp:
                    throw error
                case .retry(let delay):
                    do {
                        try await Task.sleep(for: .seconds(delay))
                    } catch {
                        throw ProviderError.cancelled
                    }
                    attempt += 1
                }
            }
        }
    }
}
