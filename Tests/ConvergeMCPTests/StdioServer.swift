import ConvergeTestSupport
import Foundation
import MCP
import Synchronization

#if canImport(System)
    import System
#else
    import SystemPackage
#endif

/// The built `converge mcp` started as an MCP client starts it (a child process on pipes), with the Swift
/// SDK's `Client` on a `StdioTransport` over those pipes.
final class StdioServer: @unchecked Sendable {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let example = repo.appendingPathComponent("examples/senior-backend").path
    static let binary = ChildProcess.builtProduct("converge", repository: repo)

    let client: Client
    let databaseURL: String
    let environment: [String: String]
    private let process: Process
    private let stderrPipe: Pipe
    /// Progress notifications received, in order.
    let progress = Mutex<[ProgressNotification.Parameters]>([])

    /// Starts `converge mcp` with a fresh SQLite store and `environment` (keys and base URLs of the scripted
    /// providers), and connects the client (initialize).
    static func start(environment extra: [String: String] = [:]) async throws -> StdioServer {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("converge-mcp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let databaseURL = "sqlite:" + folder.appendingPathComponent("surveys.sqlite").path
        // No embedding model to find and none to fetch: matching is lexical; no config file but the test's.
        let environment = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": folder.path,
            "XDG_DATA_HOME": folder.appendingPathComponent("data").path,
            "XDG_CONFIG_HOME": folder.appendingPathComponent("config").path,
            "HF_HOME": folder.appendingPathComponent("hf").path, "CONVERGE_OFFLINE": "1",
        ].merging(extra) { $1 }
        let server = try StdioServer(arguments: ["mcp", "--db", databaseURL], environment: environment,
                                     databaseURL: databaseURL)
        try await server.connect()
        return server
    }

    private init(arguments: [String], environment: [String: String], databaseURL: String) throws {
        let input = Pipe(), output = Pipe(), errors = Pipe()
        process = Process()
        process.executableURL = Self.binary
        process.arguments = arguments
        process.environment = environment
        process.currentDirectoryURL = Self.repo
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        stderrPipe = errors
        self.databaseURL = databaseURL
        self.environment = environment
        client = Client(name: "converge-tests", version: "1.0")
        transport = StdioTransport(input: FileDescriptor(rawValue: output.fileHandleForReading.fileDescriptor),
                                   output: FileDescriptor(rawValue: input.fileHandleForWriting.fileDescriptor))
        pipes = [input, output]
    }

    private let transport: StdioTransport
    private let pipes: [Pipe]

    /// Bytes written to the server's standard input as they are, beside the client's messages (the client's
    /// transport made the pipe non-blocking: a full pipe is waited for).
    func writeRaw(_ data: Data) async throws {
        let fd = pipes[0].fileHandleForWriting.fileDescriptor
        let bytes = [UInt8](data)
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written < 0 {
                guard errno == EAGAIN || errno == EINTR else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
                try await Task.sleep(for: .milliseconds(1))
                continue
            }
            offset += written
        }
    }

    private func connect() async throws {
        await client.onNotification(ProgressNotification.self) { [self] message in
            self.progress.withLock { $0.append(message.params) }
        }
        _ = try await client.connect(transport: transport)
    }

    /// Calls a tool and returns its whole result (structured content included).
    func call(_ name: String, _ arguments: [String: Value]? = nil, progressToken: ProgressToken? = nil) async throws
        -> CallTool.Result {
        try await start(name, arguments, progressToken: progressToken).value
    }

    /// Sends a tool call and returns at once (to cancel it, or to watch its progress).
    func start(_ name: String, _ arguments: [String: Value]? = nil, progressToken: ProgressToken? = nil) async throws
        -> RequestContext<CallTool.Result> {
        let meta = progressToken.map { Metadata(progressToken: $0) }
        return try await client.send(CallTool.request(.init(name: name, arguments: arguments, meta: meta)))
    }

    /// The progress notifications of `token`, once `done` holds for them (or after 10 s: notifications are
    /// handled apart from responses, so the last may come just after the call's result).
    func progress(of token: ProgressToken, until done: ([ProgressNotification.Parameters]) -> Bool = { _ in true }) async
        -> [ProgressNotification.Parameters] {
        let deadline = Date().addingTimeInterval(10)
        while true {
            let received = progress.withLock { $0 }.filter { $0.progressToken == token }
            if done(received) || Date() > deadline { return received }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Whether the child still runs.
    var isRunning: Bool { process.isRunning }

    /// Sends SIGTERM (how MCP clients stop their servers) and waits for the child; its exit status.
    func terminate() async -> Int32 {
        process.terminate()
        let deadline = Date().addingTimeInterval(20)
        while process.isRunning && Date() < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Closes the client's side (standard input: the server ends) and waits for the child.
    func stop() async -> String {
        await client.disconnect()
        try? pipes[0].fileHandleForWriting.close()
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        if process.isRunning { process.terminate() }
        let errors = stderrPipe.fileHandleForReading.readDataToEndOfFile()
        return String(decoding: errors, as: UTF8.self)
    }
}

extension CallTool.Result {
    /// The text contents, joined by new lines.
    var text: String {
        content.compactMap { if case .text(let text, _, _) = $0 { text } else { nil } }.joined(separator: "\n")
    }

    /// The structured content as Foundation JSON objects.
    var json: [String: Any] {
        guard let structuredContent, let data = try? JSONEncoder().encode(structuredContent) else { return [:] }
        return (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
    }
}
