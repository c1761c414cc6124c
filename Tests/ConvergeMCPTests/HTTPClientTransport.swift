import AsyncHTTPClient
import Foundation
import Logging
import MCP
import NIOCore
import NIOHTTP1

/// A client side of MCP's streamable HTTP transport for the tests, over AsyncHTTPClient: each message is a
/// POST to the endpoint with the session id and (when given) the bearer token; a JSON answer or each `data:`
/// event of an event-stream answer is a message received. (The SDK's own HTTP client transport reads event
/// streams only on Apple platforms.)
actor StreamableHTTPTestTransport: Transport {
    nonisolated let logger = Logger(label: "converge.tests.mcp-http")
    let endpoint: String
    let token: String?
    private(set) var sessionID: String?
    /// The status of every POST, in order.
    private(set) var statuses: [Int] = []
    private let stream: AsyncThrowingStream<Data, any Error>
    private let continuation: AsyncThrowingStream<Data, any Error>.Continuation

    struct Refused: Error, CustomStringConvertible {
        var status: Int
        var body: String
        var description: String { "HTTP \(status): \(body)" }
    }

    init(endpoint: String, token: String?) {
        self.endpoint = endpoint
        self.token = token
        (stream, continuation) = AsyncThrowingStream.makeStream()
    }

    func connect() async throws {}

    func disconnect() async {
        notificationTask?.cancel()
        if let sessionID {
            var request = HTTPClientRequest(url: endpoint)
            request.method = .DELETE
            request.headers.add(name: "Mcp-Session-Id", value: sessionID)
            if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
            _ = try? await HTTPClient.shared.execute(request, timeout: .seconds(10))
        }
        continuation.finish()
    }

    func receive() -> AsyncThrowingStream<Data, any Error> { stream }

    /// Whether the session's GET stream (server notifications, such as progress) is open.
    private(set) var notificationsOpen = false
    private var notificationTask: Task<Void, Never>?

    /// Opens the session's GET stream; its events are received like the answers to POSTs.
    func openNotificationStream() async {
        guard let sessionID else { return }
        var request = HTTPClientRequest(url: endpoint)
        request.method = .GET
        request.headers.add(name: "Accept", value: "text/event-stream")
        request.headers.add(name: "Mcp-Session-Id", value: sessionID)
        request.headers.add(name: "MCP-Protocol-Version", value: Version.latest)
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        notificationTask = Task {
            guard let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(120)),
                  response.status == .ok else { return }
            self.markOpen()
            try? await self.readEvents(response.body)
        }
        let deadline = Date().addingTimeInterval(10)
        while !notificationsOpen, Date() < deadline { try? await Task.sleep(for: .milliseconds(20)) }
    }

    private func markOpen() { notificationsOpen = true }

    func send(_ data: Data) async throws {
        var request = HTTPClientRequest(url: endpoint)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "application/json, text/event-stream")
        if let sessionID {
            request.headers.add(name: "Mcp-Session-Id", value: sessionID)
            request.headers.add(name: "MCP-Protocol-Version", value: Version.latest)
        }
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        request.body = .bytes(ByteBuffer(bytes: data))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(120))
        statuses.append(Int(response.status.code))
        if let id = response.headers.first(name: "Mcp-Session-Id") { sessionID = id }
        guard (200..<300).contains(Int(response.status.code)) else {
            let body = try await response.body.collect(upTo: 1 << 20)
            throw Refused(status: Int(response.status.code), body: String(buffer: body))
        }
        if response.headers.first(name: "Content-Type")?.contains("text/event-stream") == true {
            try await readEvents(response.body)
        } else {
            let body = try await response.body.collect(upTo: 16 << 20)
            if body.readableBytes > 0 { continuation.yield(Data(body.readableBytesView)) }
        }
    }

    /// Events as they arrive: `data:` lines, an event ended by a blank line.
    private func readEvents(_ body: HTTPClientResponse.Body) async throws {
        var pending = "", data = ""
        for try await chunk in body {
            pending += String(buffer: chunk)
            while let newline = pending.firstIndex(of: "\n") {
                let line = pending[..<newline].trimmingCharacters(in: CharacterSet(charactersIn: "\r"))
                pending = String(pending[pending.index(after: newline)...])
                if line.isEmpty {
                    if !data.isEmpty { continuation.yield(Data(data.utf8)) }
                    data = ""
                } else if line.hasPrefix("data:") {
                    data += line.dropFirst(5).drop { $0 == " " }
                }
            }
        }
        if !data.isEmpty { continuation.yield(Data(data.utf8)) }
    }
}
