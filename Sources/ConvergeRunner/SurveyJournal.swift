import ConvergeProviders

/// Where the runner records each request as it goes, and finds answers it need not ask for again.
///
/// The runner calls, per request: ``reuse(_:member:request:)`` first (an answer stored for this very request
/// of this survey, or the cached answer to an identical request); when that gives nothing,
/// ``willSend(_:member:request:)`` before the first attempt, then exactly one of ``answered(_:member:request:response:attempts:)``
/// or ``failed(_:member:request:failure:)``, before the event that reports it. The methods do not throw: a
/// journal that cannot write keeps the error for its owner to report after the run, and the survey goes on.
public protocol SurveyJournal: Sendable {
    /// An answer to use instead of sending `request`, or `nil` to send it.
    func reuse(_ key: RequestKey, member: SurveyMember, request: ChatRequest) async -> ChatResponse?
    func willSend(_ key: RequestKey, member: SurveyMember, request: ChatRequest) async
    func answered(_ key: RequestKey, member: SurveyMember, request: ChatRequest, response: ChatResponse,
                  attempts: Int) async
    func failed(_ key: RequestKey, member: SurveyMember, request: ChatRequest, failure: SampleFailure) async
}
