import AsyncHTTPClient
import ConvergeProviders
import ConvergeServer
import ConvergeStore
import ConvergeTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import MCP
import NIOCore
import Synchronization
import ServiceLifecycle
import Testing

/// `/mcp` on the server as `converge serve` builds it (``ServerRoot``, with API tokens): the Swift SDK's client
/// over the streamable HTTP transport, with the bearer token and without.
@Suite struct MCPHTTPTests {
    static let token = "mcp-test-token-0123456789abcdef"

    func withServer(_ body: @escaping @Sendable (_ endpoint: String, _ providers: ProviderTestServer) async throws -> Void) async throws {
        let providers = try await ProviderTestServer.start()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("converge-mcp-http-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let store = try await openStore(try DatabaseURL(parsing: "sqlite:" + folder.appendingPathComponent("s.sqlite").path))
        let directory = ProviderDirectory(environment: ["OPENAI_API_KEY": "sk-test-secret-openai",
                                                        "OPENAI_BASE_URL": providers.baseURL + "/v1"])
        let configuration = ServerConfiguration(host: "127.0.0.1", port: 0, tokens: try APITokens(parsing: Self.token))
        // A handler that keeps metadata (Hummingbird reads the request id from it), printing nothing.
        var logger = Logger(label: "converge.test") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = .critical
        let (ports, bound) = AsyncStream<Int>.makeStream()
        let root = try ServerRoot(configuration: configuration, store: store, providers: directory, logger: logger) { port in
            bound.yield(port)
        }
        // Run without signal handlers (HummingbirdTesting's live mode installs SIGINT/SIGTERM ones, and a signal
        // source made later in this process, as by InterruptHandler's test, would then never fire).
        let group = ServiceGroup(configuration: .init(services: [root.application], logger: logger))
        let running = Task { try await group.run() }
        var next = ports.makeAsyncIterator()
        let port = await next.next() ?? 0
        do {
            try await body("http://127.0.0.1:\(port)/mcp", providers)
        } catch {
            await group.triggerGracefulShutdown()
            _ = try? await running.value
            await root.surveys?.stop()
            await store.close()
            try? await providers.shutdown()
            throw error
        }
        await group.triggerGracefulShutdown()
        _ = try? await running.value
        await root.surveys?.stop()
        await store.close()
        try? await providers.shutdown()
    }

    @Test func withTheTokenTheToolsWorkWithoutItRefused() async throws {
        try await withServer { endpoint, providers in
            providers.script("one", [.answer("Cache with Redis.")])
            providers.script("two", [.answer("Add Redis caching.")])
            let transport = StreamableHTTPTestTransport(endpoint: endpoint, token: Self.token)
            let client = Client(name: "converge-tests", version: "1.0")
            _ = try await client.connect(transport: transport)
            #expect(await transport.sessionID != nil)
            let (tools, _) = try await client.listTools()
            #expect(tools.count == 8 && tools.contains { $0.name == "ask" })
            // Over HTTP the answers and the rubric come inline: the server reads no files named by a client.
            let refusedPaths = try await client.send(CallTool.request(.init(
                name: "analyze", arguments: ["paths": [.string(StdioServer.example)]]))).value
            #expect(refusedPaths.isError == true && (refusedPaths.json["error"] as? [String: Any])?["field"] as? String == "paths[0]")
            let folder = URL(fileURLWithPath: StdioServer.example)
            let answers: [Value] = try ["ai-1", "ai-2", "ai-3"].map { id in
                ["id": .string(id), "text": .string(try String(contentsOf: folder.appendingPathComponent("\(id).md"), encoding: .utf8))]
            }
            let analyze = try await client.send(CallTool.request(.init(name: "analyze", arguments: [
                "answers": .array(answers),
                "rubric_yaml": .string(try String(contentsOf: folder.appendingPathComponent("rubric.yaml"), encoding: .utf8)),
            ]))).value
            #expect(analyze.isError != true, "\(analyze.text)")
            let omissions = (analyze.json["report"] as? [String: Any])?["omissions"] as? [[String: Any]]
            #expect(omissions?.contains { $0["item"] as? String == "ai-tools" } == true)
            // Progress comes on the session's GET stream, where the SDK's transport sends notifications.
            let progress = Mutex<[ProgressNotification.Parameters]>([])
            await client.onNotification(ProgressNotification.self) { message in progress.withLock { $0.append(message.params) } }
            await transport.openNotificationStream()
            #expect(await transport.notificationsOpen)
            let ask = try await client.send(CallTool.request(.init(
                name: "ask", arguments: ["prompt": "How do I speed up a web service?", "models": ["openai/one", "openai/two"]],
                meta: Metadata(progressToken: .string("http-ask"))))).value
            #expect(ask.isError != true, "\(ask.text)")
            let deadline = Date().addingTimeInterval(10)
            while progress.withLock({ $0.last?.progress }) != 2, Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
            let received = progress.withLock { $0 }
            #expect(received.first?.message?.hasPrefix("survey ") == true && received.last?.progress == 2, "\(received)")
            let id = try #require(ask.json["surveyId"] as? String)
            let resource = try await client.readResource(uri: "converge://surveys/\(id)/report.json")
            #expect(resource.first?.text?.contains("Redis") == true)
            // `wait: false`: the id at once, the report later from survey_get (what a client that timed out does).
            let started = try await client.send(CallTool.request(.init(name: "ask", arguments: [
                "prompt": "Which cache?", "models": ["openai/one", "openai/two"], "wait": false]))).value
            #expect(started.json["status"] as? String == "running", "\(started.text)")
            let later = try #require(started.json["surveyId"] as? String)
            var report: [String: Any]?
            while report == nil, Date() < deadline {
                let got = try await client.send(CallTool.request(.init(name: "survey_get", arguments: ["id": .string(later)]))).value
                report = got.json["report"] as? [String: Any]
                if report == nil { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect((report?["panelists"] as? [[String: Any]])?.count == 2)
            let bad = try await client.send(CallTool.request(.init(name: "survey_get", arguments: ["id": 7]))).value
            #expect(bad.isError == true && (bad.json["error"] as? [String: Any])?["field"] as? String == "id")
            await client.disconnect()

            // Without the token (or with another): 401 before any session exists; the client cannot connect.
            for token in [nil, "not-the-token-0123456789abcdef"] as [String?] {
                let refused = StreamableHTTPTestTransport(endpoint: endpoint, token: token)
                await #expect(throws: (any Error).self) {
                    _ = try await Client(name: "intruder", version: "1.0").connect(transport: refused)
                }
                #expect(await refused.statuses == [401])
                #expect(await refused.sessionID == nil)
            }
            var request = HTTPClientRequest(url: endpoint)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: #"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#))
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
            #expect(response.status == .unauthorized)
        }
    }
}
