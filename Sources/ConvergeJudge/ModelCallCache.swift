import ConvergeProviders

/// Where the answers to Converge's own model calls (a judge's) are kept and found again: an identical request
/// (same provider and base URL, model, messages and parameters) is answered from it instead of the network,
/// as panel requests are from the survey store's response cache. ConvergeRunner's `StoreModelCallCache` keeps
/// them with the survey.
public protocol ModelCallCache: Sendable {
    /// The stored answer to `request` sent to the provider with this identity (`LLMProvider.identity`), if any.
    func answer(to request: ChatRequest, identity: String) async -> ChatResponse?
    /// Keeps an answer that came from the network. Failing to keep it is not an error of the call.
    func keep(_ response: ChatResponse, for request: ChatRequest, identity: String) async
}
