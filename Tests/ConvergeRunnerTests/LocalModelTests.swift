import ConvergeCore
import ConvergeProviders
import ConvergeRunner
import Foundation
import Testing

/// Against a real model: `../shared/tools/local-llm start` serves SmolLM2-135M-Instruct through llama.cpp's
/// OpenAI-compatible server. Runs only when `CONVERGE_LOCAL_LLM_URL` names it (e.g.
/// `http://127.0.0.1:18080/v1`), since starting it the first time builds llama.cpp.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["CONVERGE_LOCAL_LLM_URL"] != nil,
                "set CONVERGE_LOCAL_LLM_URL to the local-llm base URL"))
struct LocalModelTests {
    @Test func aRealModelAnswersAPromptAndAFollowUp() async throws {
        let url = try #require(ProcessInfo.processInfo.environment["CONVERGE_LOCAL_LLM_URL"])
        let config = try ConvergeConfig(yaml: """
        providers:
          local:
            kind: openai
            base_url: \(url)
        panels:
          tiny: [local/smollm2]
        """)
        let panelists = PanelEntry.panelists(for: try config.panel(named: "tiny"))
        let members = try SurveyRunner.members(for: panelists, directory: ProviderDirectory(config: config, environment: [:]))
        let runner = try SurveyRunner(members: members, options: RunnerOptions(
            samples: 2, concurrency: 2, timeout: .seconds(120), retry: RetryPolicy(maxAttempts: 2),
            parameters: GenerationParameters(temperature: 0.8, maxTokens: 48, seed: 1)))
        let result = await runner.run(Survey(prompt: "Name one programming language.",
                                             followUps: ["Name another one."]))
        #expect(result.allAnswered, "\(result.outcomes.compactMap { $0.outcome.failure?.cause })")
        for (key, outcome) in result.outcomes {
            let response = try #require(outcome.response, "\(key)")
            #expect(!response.text.isEmpty)
            #expect((response.inputTokens ?? 0) > 0)
            #expect((response.outputTokens ?? 0) > 0)
            #expect(response.finishReason != nil)
            #expect(response.requestID != nil)
            // The follow-up carried the thread, so it has more prompt tokens than the first turn.
            if key.turn == 1, let first = result.outcome(turn: 0, panelistID: key.panelistID, sample: key.sample)?.response {
                #expect((response.inputTokens ?? 0) > (first.inputTokens ?? 0))
            }
        }
    }
}
