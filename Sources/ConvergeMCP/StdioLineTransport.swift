import Foundation
import Logging
import MCP

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// MCP's stdio transport: newline-delimited JSON-RPC messages on two file descriptors (MCP specification
/// 2025-06-18, "Transports: stdio"), read in time linear in their size.
///
/// Why not the SDK's `StdioTransport`: it looks for the newline from the start of everything not yet read after
/// every 4 KiB chunk, so one large message costs time quadratic in its size (a 4 MiB message took 88 s in a
/// debug build, 16 MiB did not finish in 300 s), and nothing else is read meanwhile. Here each byte is scanned
/// once, and a message over ``maxMessageBytes`` is dropped whole (logged, skipped to its newline) instead of
/// growing without bound. A blocking reader thread feeds the stream; end of input ends it.
public actor StdioLineTransport: Transport {
    /// Longest message read, in bytes: 16 MiB (the HTTP server's body limit is 4 MiB by default).
    public static let maxMessageBytes = 16 << 20

    public nonisolated let logger: Logger
    private let input: Int32
    private let output: Int32
    private let messages: AsyncThrowingStream<Data, any Swift.Error>
    private let continuation: AsyncThrowingStream<Data, any Swift.Error>.Continuation
    private var started = false

    public init(input: Int32 = STDIN_FILENO, output: Int32 = STDOUT_FILENO, logger: Logger) {
        self.input = input
        self.output = output
        self.logger = logger
        (messages, continuation) = AsyncThrowingStream.makeStream()
    }

    public func connect() async throws {
        guard !started else { return }
        started = true
        let input = input, continuation = continuation, logger = logger
        Thread.detachNewThread {
            Self.readLines(from: input, into: continuation, logger: logger)
        }
    }

    public func disconnect() async {
        continuation.finish()
    }

    public func receive() -> AsyncThrowingStream<Data, any Swift.Error> { messages }

    /// Writes `data` and a newline, all of it (retrying short writes and EINTR).
    public func send(_ data: Data) async throws {
        var bytes = [UInt8](data)
        bytes.append(0x0A)
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(output, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw MCPError.transportError(POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO))
            }
            offset += written
        }
    }

    /// The reader thread: every complete line that is not blank is one message; end of input ends the stream.
    static func readLines(from fd: Int32, into continuation: AsyncThrowingStream<Data, any Swift.Error>.Continuation,
                          logger: Logger) {
        var line: [UInt8] = []
        var skipping = false  // inside a message over the limit, until its newline
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                continuation.finish(throwing: MCPError.transportError(POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)))
                return
            }
            if count == 0 { break }
            var start = 0
            for i in 0..<count where chunk[i] == 0x0A {
                if !skipping { line.append(contentsOf: chunk[start..<i]) }
                if !skipping, line.contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D }) { continuation.yield(Data(line)) }
                line.removeAll(keepingCapacity: true)
                skipping = false
                start = i + 1
            }
            if !skipping { line.append(contentsOf: chunk[start..<count]) }
            if line.count > maxMessageBytes {
                logger.warning("an MCP message over \(maxMessageBytes) bytes was dropped")
                line.removeAll()
                skipping = true
            }
        }
        if !skipping, line.contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D }) { continuation.yield(Data(line)) }
        continuation.finish()
    }
}
