import AsyncHTTPClient
import ConvergeStore
import ConvergeTestSupport
import Foundation
import NIOCore
import Testing

/// Surveys on a real `converge serve` process: live events over a socket, SIGTERM with a slow panel, and a
/// restarted server that finishes the survey without asking answered requests again.
@Suite(.serialized) struct SurveysLiveTests {
    func waitUntil(_ what: String, timeout: Duration = .seconds(60),
                   _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while try await !condition() {
            guard ContinuousClock.now < deadline else { Issue.record("timed out waiting: \(what)"); return }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func sigtermLeavesASurveyResumableAndARestartFinishesIt(_ database: TestDatabase) async throws {
        let provider = try await ProviderTestServer.start()
        defer { Task { try? await provider.shutdown() } }
        provider.script("quick", [.answer("Quick one."), .answer("Quick two.")])
        provider.script("slow", [.answer("never sent", delay: 120)])
        let db = try database.freshURL()
        let key = "sk-test-serve-key-never-echoed-91c2"
        let environment = [
            "OPENAI_API_KEY": key, "OPENAI_BASE_URL": provider.baseURL + "/v1", "CONVERGE_DATABASE_URL": db,
            "XDG_CONFIG_HOME": FileManager.default.temporaryDirectory.appendingPathComponent("no-config").path,
        ]
        let server = try ServeProcess(arguments: [], environment: environment)
        defer { server.kill() }
        let base = try await server.waitForURL()
        let created = try await HTTP.send(base + "/v1/surveys", method: .POST, headers: ["Content-Type": "application/json"],
                                          body: try JSONSerialization.data(withJSONObject: [
                                              "prompt": "Cache?", "followUps": ["When not?"],
                                              "panel": ["openai/quick", "openai/slow"]]))
        #expect(created.status == 202)
        let id = try #require((try JSONSerialization.jsonObject(with: Data(created.text.utf8)) as? [String: Any])?["id"] as? String)

        // The event stream, read as it arrives.
        let collected = Collected()
        let reader = Task {
            let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: base + "/v1/surveys/\(id)/events"),
                                                               timeout: .seconds(120))
            for try await buffer in response.body { collected.append(String(buffer: buffer)) }
            collected.end()
        }
        // Both of quick's answers show up while the survey is still running (slow hangs).
        try await waitUntil("quick's answers in the stream") {
            collected.text.contains("Quick one.") && collected.text.contains("Quick two.")
        }
        #expect(!collected.isEnded)
        #expect(!collected.text.contains("event: complete"))
        let store = try await openStore(try DatabaseURL(parsing: db))
        try await waitUntil("slow's request pending") {
            try await store.requests(surveyID: id).contains { $0.key.panelistID == "slow" && $0.state == .pending }
        }

        #expect(try await server.terminate() == 0)
        try await waitUntil("the stream ends") { collected.isEnded }
        _ = try? await reader.value
        let events = ParsedEvent.parse(collected.text)
        #expect(events.first?.name == "state")
        #expect(events.last?.name == "complete")
        #expect(events.last?.data["status"] as? String == "interrupted")
        #expect(try await store.survey(id: id).status == .interrupted)
        let rows = try await store.requests(surveyID: id)
        #expect(rows.filter { $0.key.panelistID == "quick" && $0.state == .answered }.count == 2)
        #expect(!server.stderr.contains(key))

        // A new server resumes it: only slow is asked (both its turns); quick's stored answers are reused.
        provider.resetRecords()
        provider.script("slow", [.answer("Slow one."), .answer("Slow two.")])
        let restarted = try ServeProcess(arguments: [], environment: environment)
        defer { restarted.kill() }
        let again = try await restarted.waitForURL()
        try await waitUntil("the resumed survey completes") {
            let detail = try await HTTP.send(again + "/v1/surveys/\(id)")
            let object = try JSONSerialization.jsonObject(with: Data(detail.text.utf8)) as? [String: Any]
            return object?["status"] as? String == "complete"
        }
        #expect(provider.requests(model: "quick").isEmpty)
        #expect(provider.requests(model: "slow").count == 2)
        let report = try await HTTP.send(again + "/v1/surveys/\(id)/report?format=md")
        #expect(report.status == 200)
        #expect(report.text.contains("Slow two.") || report.text.contains("slow"))
        let detail = try await HTTP.send(again + "/v1/surveys/\(id)")
        #expect(!detail.text.contains(key))
        #expect(try await restarted.terminate() == 0)
        #expect(!restarted.stderr.contains(key))
        await store.close()
    }
}
