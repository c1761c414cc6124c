import ConvergeAnalysis
import ConvergeCore
import ConvergeProviders
import Foundation

/// Asks a judge model about a panel and adds its verified claims to the report (`Report.judge`).
///
/// One request with `JudgeBrief`'s messages, in the provider's JSON mode where it has one
/// (`ResponseFormat.json`; a server that refuses the mode with 400 or 422 is asked once more without it),
/// retried on retryable provider errors by `retry` and answered from the client's cache when an identical
/// request was answered before, as panel requests are; when the reply is not the contract's JSON, one repair
/// request (the reply and what is wrong with it, asking for the JSON alone); then `JudgeVerifier`. A judge that fails (provider error, invalid JSON
/// twice) leaves the deterministic report whole, with `judge.status == .failed` and the reason: a judge's
/// failure is never a panel failure.
public struct Judge: Sendable {
    public var client: ModelClient
    /// The model spec as the user gave it (`openai/gpt-4o`): reported, and compared with the panel's models.
    public var spec: String { client.spec }

    public init(client: ModelClient) {
        self.client = client
        self.client.parameters.responseFormat = .json
    }

    /// This judge with its requests answered from and kept in `cache` (a survey's store).
    public func caching(_ cache: (any ModelCallCache)?) -> Judge {
        var judge = self
        judge.client.cache = cache
        return judge
    }

    /// `report` (the deterministic analysis of `input`, unblinded) with a `judge` section and the verified
    /// blind spots appended to `omissions`.
    public func judge(_ report: Report, input: AnalysisInput, analyzer: Analyzer) async -> Report {
        let brief = JudgeBrief(input: input, report: report)
        let onPanel = report.panelists.contains { $0.model == spec || $0.id == spec }
        var section = Report.Judge(model: spec, status: .failed, onPanel: onPanel, attempts: 0)
        var messages = brief.messages
        var result = report
        var repairNote: String?
        var client = self.client
        for attempt in 1...2 {
            let response: ChatResponse
            do {
                let call: ModelClient.Call
                do {
                    call = try await client.call(messages)
                } catch .http(let status, _, _, _) where (status == 400 || status == 422) && client.parameters.responseFormat != nil {
                    // Some OpenAI-compatible servers refuse `response_format`: the prompt asks for JSON anyway.
                    client.parameters.responseFormat = nil
                    call = try await client.call(messages)
                }
                response = call.response
                if call.fromCache { section.fromCache = true }
            } catch {
                section.attempts = attempt
                section.error = "\(error)"
                result.judge = section
                return result
            }
            section.attempts = attempt
            section.latencyMs = (section.latencyMs ?? 0) + response.latencyMs
            if let tokens = response.inputTokens { section.inputTokens = (section.inputTokens ?? 0) + tokens }
            if let tokens = response.outputTokens { section.outputTokens = (section.outputTokens ?? 0) + tokens }
            do {
                let reply = try JudgeReply.parse(response.text)
                let (claims, omissions) = JudgeVerifier(input: input, report: report, brief: brief, analyzer: analyzer)
                    .verify(reply)
                section.status = .verified
                section.error = repairNote
                section.consensus = claims.consensus
                section.unique = claims.unique
                section.contradictions = claims.contradictions
                section.blindSpots = claims.blindSpots
                section.synthesis = claims.synthesis
                section.dropped = claims.dropped
                result.omissions += omissions
                result.judge = section
                return result
            } catch {
                if attempt == 2 {
                    section.error = "its reply was not valid JSON twice (\(error.description))"
                    break
                }
                repairNote = "the first reply was not valid JSON (\(error.description)); it was asked again"
                messages += [.assistant(response.text), .user("""
                    That reply is not what was asked: \(error.description). Reply again with the JSON object \
                    only, exactly in the form given, with no other text.
                    """)]
            }
        }
        result.judge = section
        return result
    }
}
