import AsyncHTTPClient
import ConvergeStore
import ConvergeTestSupport
import Foundation
import NIOCore
import Testing

/// Surveys whose threads real `converge worker` processes ask, on a real PostgreSQL cluster, watched through a real
/// `converge serve` process: the survey's event stream is fed by polling the database (answers as they are written,
/// then `complete`), as for a survey the server asks itself.
@Suite(.serialized, .enabled(if: PostgresTestCluster.unavailableReason == nil))
struct QueuedEventsLiveTests {
    static let key = "sk-test-queued-key-never-echoed-4e1d"

    func waitUntil(_ what: String, timeout: Duration = .seconds(90), _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while try await !condition() {
            guard ContinuousClock.now < deadline else { Issue.record("timed out waiting: \(what)"); return }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    func environment(_ provider: ProviderTestServer, db: String) -> [String: String] {
        let temporary = FileManager.default.temporaryDirectory
        return [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": temporary.path,
            "XDG_CONFIG_HOME": temporary.appendingPathComponent("no-config").path,
            "XDG_DATA_HOME": temporary.appendingPathComponent("converge-no-models").path, "CONVERGE_OFFLINE": "1",
            "OPENAI_API_KEY": Self.key, "OPENAI_BASE_URL": provider.baseURL + "/v1", "CONVERGE_DATABASE_URL": db,
        ]
    }

    func freshDatabase() throws -> String {
        let cluster = try PostgresTestCluster.shared()
        let name = "qe_" + UUID().uuidString.prefix(8).lowercased()
        try cluster.createDatabase(name)
        return cluster.url(database: name)
    }

    /// The event stream of a survey, collected as it arrives.
    func stream(_ url: String) -> (collected: Collected, reader: Task<Void, any Error>) {
        let collected = Collected()
        let reader = Task {
            let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(120))
            for try await buffer in response.body { collected.append(String(buffer: buffer)) }
            collected.end()
        }
        return (collected, reader)
    }

    func json(_ text: String) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
    }

    /// `serve --queue`: a batch posted to the server is queued, not asked; its first survey's event stream waits;
    /// a worker started later asks it, and the stream shows each answer as it is written, then `complete` with the
    /// report the server made once every thread was done.
    @Test func aBatchQueuedByTheServerIsAskedByAWorkerAndItsEventsComeFromTheDatabase() async throws {
        let provider = try await ProviderTestServer.start()
        defer { Task { try? await provider.shutdown() } }
        provider.script("alpha", [.answer("Alpha says cache the reads.", delay: 0.3), .answer("Alpha says queue the writes.", delay: 0.3)])
        provider.script("beta", [.answer("Beta says cache reads with care.", delay: 1.5), .answer("Beta says queue writes.", delay: 1.5)])
        let env = environment(provider, db: try freshDatabase())
        let server = try ServeProcess(arguments: ["--queue"], environment: env)
        defer { server.kill() }
        let base = try await server.waitForURL()

        let created = try await HTTP.send(base + "/v1/batches", method: .POST, headers: ["Content-Type": "application/json"],
                                          body: try JSONSerialization.data(withJSONObject: [
                                              "prompts": [["id": "cache", "prompt": "Cache reads?"], ["id": "queue", "prompt": "Queue writes?"]],
                                              "panel": ["openai/alpha", "openai/beta"]]))
        #expect(created.status == 202, "\(created.text)")
        let id = try #require(json(created.text)?["id"] as? String)
        let detail = try #require(json(try await HTTP.send(base + "/v1/batches/\(id)").text))
        let surveys = (detail["items"] as? [[String: Any]] ?? []).compactMap { $0["survey"] as? String }
        #expect(surveys.count == 2)
        let (collected, reader) = stream(base + "/v1/surveys/\(surveys[0])/events")
        // The live survey page's own stream of the second survey: the same events.
        let (page, pageReader) = stream(base + "/surveys/\(surveys[1])/events")
        try await waitUntil("the state event") { collected.text.contains("event: state") && page.text.contains("event: state") }

        // No worker yet: nothing is asked, the stream stays open.
        try await Task.sleep(for: .seconds(1))
        #expect(provider.requests.isEmpty)
        #expect(!collected.isEnded && !collected.text.contains("event: response"))

        let worker = try BackgroundProcess(ServeProcess.binary, ["worker", "--slots", "4", "--lease", "5"], environment: env)
        defer { if worker.isRunning { worker.send(SIGKILL) } }
        // Alpha's answer is streamed while beta's is still on its way.
        try await waitUntil("alpha's answer in the stream") { collected.text.contains("Alpha says") }
        #expect(!collected.isEnded)
        try await waitUntil("the stream ends") { collected.isEnded }
        _ = try? await reader.value
        let events = ParsedEvent.parse(collected.text)
        #expect(events.first?.name == "state")
        let responses = events.filter { $0.name == "response" }
        #expect(Set(responses.compactMap { $0.data["panelist"] as? String }) == ["alpha", "beta"], "\(collected.text)")
        // The worker asks both surveys at once, so which scripted answer each gets is not fixed.
        #expect(responses.allSatisfy { ($0.data["text"] as? String)?.contains(" says ") == true })
        #expect(events.filter { $0.name == "progress" && $0.data["type"] as? String == "answered" }.count == 2)
        #expect(events.last?.name == "complete")
        #expect(events.last?.data["status"] as? String == "complete")
        #expect(events.last?.data["report"] as? String == "/v1/surveys/\(surveys[0])/report")

        try await waitUntil("the page's stream ends") { page.isEnded }
        _ = try? await pageReader.value
        let pageEvents = ParsedEvent.parse(page.text)
        #expect(pageEvents.filter { $0.name == "response" }.count == 2, "\(page.text)")
        #expect(pageEvents.last?.name == "complete" && pageEvents.last?.data["status"] as? String == "complete")
        try await waitUntil("the batch completes") {
            json(try await HTTP.send(base + "/v1/batches/\(id)").text)?["status"] as? String == "complete"
        }
        let report = try await HTTP.send(base + "/v1/batches/\(id)/report")
        #expect(report.status == 200 && (json(report.text)?["items"] as? [[String: Any]])?.count == 2)
        // Each request was sent once, by the worker.
        #expect(provider.requests.count == 4)
        worker.send(SIGTERM)
        #expect(await worker.wait(timeout: .seconds(20)) == 0)
        #expect(try await server.terminate() == 0)
        #expect(!server.stderr.contains(Self.key) && !worker.stderr.contains(Self.key))
    }

    /// A server that asks its own surveys (no `--queue`) watches one that `converge ask --queue` queued: its stream is
    /// fed from the database while a worker asks it, and ends once the asking process has stored the analysis.
    @Test func aSurveyQueuedByAnotherProcessIsStreamedFromTheDatabase() async throws {
        let provider = try await ProviderTestServer.start()
        defer { Task { try? await provider.shutdown() } }
        provider.script("alpha", [.answer("Alpha: measure first.", delay: 0.3)])
        provider.script("beta", [.answer("Beta: measure, then cache.", delay: 1.0)])
        let db = try freshDatabase()
        let env = environment(provider, db: db)
        let server = try ServeProcess(arguments: [], environment: env)
        defer { server.kill() }
        let base = try await server.waitForURL()

        let ask = try BackgroundProcess(ServeProcess.binary, ["ask", "Cache?", "-m", "openai/alpha", "-m", "openai/beta", "--queue",
                                                              "--quiet", "--format", "json"], environment: env)
        defer { if ask.isRunning { ask.send(SIGKILL) } }
        let store = try await openStore(try DatabaseURL(parsing: db))
        var surveyID: String?
        try await waitUntil("the survey is queued") {
            guard let survey = try await store.surveys(limit: 1, offset: 0).first else { return false }
            surveyID = survey.id
            return try await !workQueue(store).jobs(surveyIDs: [survey.id]).isEmpty
        }
        await store.close()
        let id = try #require(surveyID)
        let (collected, reader) = stream(base + "/v1/surveys/\(id)/events")
        try await waitUntil("the state event") { collected.text.contains("event: state") }
        #expect(!collected.text.contains("event: complete"))

        let worker = try BackgroundProcess(ServeProcess.binary, ["worker", "--slots", "2"], environment: env)
        defer { if worker.isRunning { worker.send(SIGKILL) } }
        try await waitUntil("alpha's answer in the stream") { collected.text.contains("Alpha: measure first.") }
        try await waitUntil("the stream ends") { collected.isEnded }
        _ = try? await reader.value
        let events = ParsedEvent.parse(collected.text)
        #expect(events.filter { $0.name == "response" }.count == 2, "\(collected.text)")
        #expect(events.last?.name == "complete")
        #expect(events.last?.data["status"] as? String == "complete")
        #expect(events.last?.data["report"] as? String == "/v1/surveys/\(id)/report")
        #expect(await ask.wait(timeout: .seconds(60)) == 0, "\(ask.stderr)")
        #expect(provider.requests.count == 2)
        worker.send(SIGTERM)
        #expect(await worker.wait(timeout: .seconds(20)) == 0)
        #expect(try await server.terminate() == 0)
    }

    /// `serve --queue` killed (SIGKILL) while a survey it queued waits for a worker: the next `serve --queue` follows it
    /// again at start and analyses it once a worker has asked it; each request is sent once.
    @Test func aRestartedQueueingServerFollowsAndAnalysesWhatItQueued() async throws {
        let provider = try await ProviderTestServer.start()
        defer { Task { try? await provider.shutdown() } }
        let db = try freshDatabase()
        let env = environment(provider, db: db)
        let server = try ServeProcess(arguments: ["--queue"], environment: env)
        defer { server.kill() }
        let base = try await server.waitForURL()
        let created = try await HTTP.send(base + "/v1/surveys", method: .POST, headers: ["Content-Type": "application/json"],
                                          body: try JSONSerialization.data(withJSONObject: [
                                              "prompt": "Why queue?", "panel": ["openai/alpha", "openai/beta"]]))
        #expect(created.status == 202, "\(created.text)")
        let id = try #require(json(created.text)?["id"] as? String)
        let store = try await openStore(try DatabaseURL(parsing: db))
        let queued = try await workQueue(store).jobs(surveyIDs: [id])
        #expect(queued.count == 2 && queued.allSatisfy { $0.state == .queued })
        server.kill()
        try await Task.sleep(for: .milliseconds(200))

        let restarted = try ServeProcess(arguments: ["--queue"], environment: env)
        defer { restarted.kill() }
        let again = try await restarted.waitForURL()
        let worker = try BackgroundProcess(ServeProcess.binary, ["worker", "--slots", "2"], environment: env)
        defer { if worker.isRunning { worker.send(SIGKILL) } }
        try await waitUntil("the survey completes") {
            json(try await HTTP.send(again + "/v1/surveys/\(id)").text)?["status"] as? String == "complete"
        }
        let report = try await HTTP.send(again + "/v1/surveys/\(id)/report")
        #expect(report.status == 200, "\(report.text)")
        #expect(provider.requests.count == 2)
        #expect(try await store.survey(id: id).owner == nil)
        await store.close()
        worker.send(SIGTERM)
        #expect(await worker.wait(timeout: .seconds(20)) == 0)
        #expect(try await restarted.terminate() == 0)
    }
}
