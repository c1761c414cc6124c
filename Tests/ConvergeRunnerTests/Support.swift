import ConvergeCore
import ConvergeProviders
import ConvergeRunner
import ConvergeTestSupport
import Foundation
import Testing

/// Collects every event of a run.
actor EventLog {
    private(set) var events: [SurveyEvent] = []

    func append(_ event: SurveyEvent) { events.append(event) }

    func retries(of panelistID: String) -> [(attempt: Int, delay: Double, reason: String)] {
        events.compactMap {
            if case .retrying(let key, let attempt, let delay, let reason) = $0, key.panelistID == panelistID {
                return (attempt, delay, reason)
            }
            return nil
        }
    }

    func count(where predicate: @Sendable (SurveyEvent) -> Bool) -> Int { events.filter(predicate).count }
}

/// Runs a survey and gathers its events.
func runCollecting(_ runner: SurveyRunner, _ survey: Survey) async -> (SurveyResult, EventLog) {
    let log = EventLog()
    let (events, task) = runner.start(survey)
    for await event in events { await log.append(event) }
    return (await task.value, log)
}

/// A config naming three providers on the given servers, one per wire format, each with a key variable.
func testConfig(openAI: ProviderTestServer, anthropic: ProviderTestServer, gemini: ProviderTestServer,
                extra: String = "", openAICap: Int? = nil) throws -> ConvergeConfig {
    try ConvergeConfig(yaml: """
    providers:
      fake-openai:
        kind: openai
        base_url: \(openAI.baseURL)/v1
        api_key_env: FAKE_OPENAI_KEY
    \(openAICap.map { "    max_concurrency: \($0)" } ?? "")
      fake-anthropic:
        kind: anthropic
        base_url: \(anthropic.baseURL)
        api_key_env: FAKE_ANTHROPIC_KEY
      fake-gemini:
        kind: gemini
        base_url: \(gemini.baseURL)
        api_key_env: FAKE_GEMINI_KEY
    \(extra)
    """)
}

let testEnvironment = [
    "FAKE_OPENAI_KEY": "sk-fake-openai-0123456789",
    "FAKE_ANTHROPIC_KEY": "sk-ant-fake-0123456789",
    "FAKE_GEMINI_KEY": "AIza-fake-gemini-0123456789",
]

/// Starts `count` servers, runs `body`, shuts them down whatever happens.
func withServers(_ count: Int, _ body: ([ProviderTestServer]) async throws -> Void) async throws {
    var servers: [ProviderTestServer] = []
    for _ in 0..<count { servers.append(try await ProviderTestServer.start()) }
    do {
        try await body(servers)
    } catch {
        for server in servers { try? await server.shutdown() }
        throw error
    }
    for server in servers { try await server.shutdown() }
}
