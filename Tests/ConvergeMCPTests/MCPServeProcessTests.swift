import ConvergeTestSupport
import Foundation
import MCP
import Synchronization
import Testing

/// `/mcp` on the real `converge serve` process: the SDK's client with the token and without, then SIGTERM.
@Suite struct MCPServeProcessTests {
    @Test func theServeProcessServesMCPWithTheTokenAndStopsOnSIGTERM() async throws {
        let providers = try await ProviderTestServer.start()
        defer { Task { try? await providers.shutdown() } }
        providers.script("one", [.answer("Cache with Redis.")])
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("converge-mcp-serve-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = StdioServer.binary
        process.arguments = ["serve", "--port", "0"]
        process.environment = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": folder.path,
            "XDG_DATA_HOME": folder.path, "XDG_CONFIG_HOME": folder.path,
            "CONVERGE_API_TOKENS": MCPHTTPTests.token,
            "CONVERGE_DATABASE_URL": "sqlite:" + folder.appendingPathComponent("s.sqlite").path,
            "OPENAI_API_KEY": "sk-test-secret-openai", "OPENAI_BASE_URL": providers.baseURL + "/v1",
        ]
        let errors = Pipe()
        let text = Mutex("")
        errors.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            text.withLock { $0 += String(decoding: data, as: UTF8.self) }
        }
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        var base: String?
        let deadline = Date().addingTimeInterval(60)
        while base == nil, process.isRunning, Date() < deadline {
            let stderr = text.withLock { $0 }
            if let range = stderr.range(of: "converge: serving on "), let end = stderr[range.upperBound...].firstIndex(of: "\n") {
                base = String(stderr[range.upperBound..<end])
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        let endpoint = try #require(base, "\(text.withLock { $0 })") + "/mcp"

        let transport = StreamableHTTPTestTransport(endpoint: endpoint, token: MCPHTTPTests.token)
        let client = Client(name: "converge-tests", version: "1.0")
        _ = try await client.connect(transport: transport)
        #expect(try await client.listTools().tools.count == 8)
        let ask = try await client.send(CallTool.request(.init(
            name: "ask", arguments: ["prompt": "Which cache?", "models": ["openai/one"]]))).value
        #expect(ask.isError != true, "\(ask.text)")
        #expect((ask.json["report"] as? [String: Any])?["panelists"] != nil)
        let models = try await client.send(CallTool.request(.init(name: "models"))).value
        #expect(models.text.contains("OPENAI_API_KEY set") && !models.text.contains("sk-test-secret-openai"))
        await client.disconnect()

        let refused = StreamableHTTPTestTransport(endpoint: endpoint, token: nil)
        await #expect(throws: (any Error).self) { _ = try await Client(name: "intruder", version: "1.0").connect(transport: refused) }
        #expect(await refused.statuses == [401])

        process.terminate()
        let stopBy = Date().addingTimeInterval(30)
        while process.isRunning, Date() < stopBy { try await Task.sleep(for: .milliseconds(20)) }
        #expect(!process.isRunning && process.terminationStatus == 0, "\(text.withLock { $0 })")
        #expect(!text.withLock { $0 }.contains("sk-test-secret-openai"))
    }
}
