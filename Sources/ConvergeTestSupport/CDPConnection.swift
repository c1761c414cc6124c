import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The DevTools pipe: writes NUL-terminated commands, and a reader thread splits the replies and events,
/// resolves pending commands by id and records per-session events (console, load events).
final class CDPConnection: Sendable {
    private struct Session {
        var console: [String] = []
        var loads = 0
    }

    private struct State {
        var nextID = 1
        var pending: [Int: (method: String, continuation: CheckedContinuation<JSONValue, any Error>)] = [:]
        var sessions: [String: Session] = [:]
        var closedReason: String?
    }

    private let state = Mutex(State())
    /// The write end of the command pipe; the lock also keeps concurrent commands from interleaving.
    private let writeFD: Mutex<Int32>
    private let readFD: Int32

    init(writeFD: Int32, readFD: Int32) {
        self.writeFD = Mutex(writeFD)
        self.readFD = readFD
    }

    func startReading() {
        // A plain thread: read(2) blocks, which must not tie up a cooperative-pool thread.
        let thread = Thread { [self] in readLoop() }
        thread.name = "chromium-devtools-reader"
        thread.start()
    }

    func checkOpen() throws {
        if let reason = state.withLock({ $0.closedReason }) { throw HeadlessBrowserError.closed(reason) }
    }

    func openSession(_ id: String) {
        state.withLock { if $0.sessions[id] == nil { $0.sessions[id] = Session() } }
    }

    func console(_ session: String) -> [String] { state.withLock { $0.sessions[session]?.console ?? [] } }
    func loadCount(_ session: String) -> Int { state.withLock { $0.sessions[session]?.loads ?? 0 } }

    /// Sends `method` and returns its `result` object.
    func send(_ method: String, _ params: [String: JSONValue] = [:], session: String? = nil,
              timeout: Duration) async throws -> JSONValue {
        let id = state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        let encoder = JSONEncoder()
        var message = "{\"id\":\(id),\"method\":" + String(decoding: try encoder.encode(method), as: UTF8.self)
        if let session { message += ",\"sessionId\":" + String(decoding: try encoder.encode(session), as: UTF8.self) }
        message += ",\"params\":" + String(decoding: try encoder.encode(JSONValue.object(params)), as: UTF8.self) + "}"
        let bytes = Array(message.utf8) + [0]

        let timer = Task { [self] in
            try await Task.sleep(for: timeout)
            resolve(id, .failure(HeadlessBrowserError.timeout("no reply to \(method) within \(timeout)")))
        }
        defer { timer.cancel() }
        return try await withCheckedThrowingContinuation { continuation in
            let closedReason: String? = state.withLock { state in
                if let reason = state.closedReason { return reason }
                state.pending[id] = (method, continuation)
                return nil
            }
            if let closedReason {
                continuation.resume(throwing: HeadlessBrowserError.closed(closedReason))
                return
            }
            if let failure = writeMessage(bytes) {
                resolve(id, .failure(HeadlessBrowserError.closed("writing \(method) failed: \(failure)")))
            }
        }
    }

    private func writeMessage(_ bytes: [UInt8]) -> String? {
        writeFD.withLock { fd -> String? in
            guard fd >= 0 else { return "the pipe is closed" }
            var offset = 0
            while offset < bytes.count {
                let written = bytes.withUnsafeBytes { buffer in
                    sysWrite(fd, buffer.baseAddress! + offset, buffer.count - offset)
                }
                if written < 0 {
                    if errno == EINTR { continue }
                    return errorText(errno)
                }
                offset += written
            }
            return nil
        }
    }

    private func resolve(_ id: Int, _ result: Result<JSONValue, any Error>) {
        let pending = state.withLock { $0.pending.removeValue(forKey: id) }
        switch result {
        case .success: pending?.continuation.resume(with: result)
        case .failure(let error):
            if case .protocolError(_, let message) = error as? HeadlessBrowserError, let method = pending?.method {
                pending?.continuation.resume(throwing: HeadlessBrowserError.protocolError(method: method, message: message))
            } else {
                pending?.continuation.resume(throwing: error)
            }
        }
    }

    /// Marks the connection closed, fails every pending command and closes the command pipe (the reader
    /// thread ends at end of file once the browser and its helpers are gone).
    func shutDown(reason: String) {
        let pending = state.withLock { state in
            if state.closedReason == nil { state.closedReason = reason }
            defer { state.pending = [:] }
            return state.pending
        }
        for entry in pending.values { entry.continuation.resume(throwing: HeadlessBrowserError.closed(reason)) }
        writeFD.withLock { fd in
            if fd >= 0 { closeFD(fd) }
            fd = -1
        }
    }

    private func readLoop() {
        var buffer = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { sysRead(readFD, $0.baseAddress!, $0.count) }
            if count < 0, errno == EINTR { continue }
            if count <= 0 { break }
            buffer.append(contentsOf: chunk[0..<count])
            var start = 0
            while let end = buffer[start...].firstIndex(of: 0) {
                handle(Data(buffer[start..<end]))
                start = end + 1
            }
            buffer.removeFirst(start)
        }
        closeFD(readFD)
        shutDown(reason: "chromium closed the DevTools pipe (it exited)")
    }

    private func handle(_ data: Data) {
        guard let message = JSONValue(data: data) else { return }
        if let id = message["id"]?.int {
            if let error = message["error"] {
                // resolve(_:_:) puts in the method name it has on record for this id.
                resolve(id, .failure(HeadlessBrowserError.protocolError(
                    method: "command \(id)", message: error["message"]?.string ?? "\(error)")))
            } else {
                resolve(id, .success(message["result"] ?? .object([:])))
            }
            return
        }
        guard let method = message["method"]?.string, let session = message["sessionId"]?.string else { return }
        let params = message["params"] ?? .object([:])
        var line: String?
        var loaded = false
        switch method {
        case "Page.loadEventFired":
            loaded = true
        case "Runtime.consoleAPICalled":
            let arguments = (params["args"]?.array ?? []).map(Self.text(of:)).joined(separator: " ")
            line = "\(params["type"]?.string ?? "log"): \(arguments)"
        case "Runtime.exceptionThrown":
            let details = params["exceptionDetails"]
            let text = details?["exception"]?["description"]?.string ?? details?["text"]?.string ?? "\(params)"
            line = "uncaught: \(text)"
        case "Log.entryAdded":
            let entry = params["entry"]
            line = "log.\(entry?["level"]?.string ?? "?"): [\(entry?["source"]?.string ?? "?")] \(entry?["text"]?.string ?? "")"
                + (entry?["url"]?.string.map { " (\($0))" } ?? "")
        default:
            return
        }
        state.withLock { state in
            var record = state.sessions[session] ?? Session()
            if loaded { record.loads += 1 }
            if let line { record.console.append(line) }
            state.sessions[session] = record
        }
    }

    /// The text of a console argument (a CDP `RemoteObject`): its primitive value, else its description.
    private static func text(of object: JSONValue) -> String {
        switch object["value"] {
        case .string(let text)?: return text
        case let value? where value != .null: return "\(value)"
        default: return object["description"]?.string ?? object["unserializableValue"]?.string ?? object["type"]?.string ?? "?"
        }
    }
}
