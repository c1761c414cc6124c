import Foundation
import MCP

/// The streamable HTTP transport's sessions, for a web framework to serve at one endpoint (`converge serve`
/// at `/mcp`): an `initialize` POST opens a session (its own ``ConvergeMCPServer`` on the SDK's
/// `StatefulHTTPServerTransport`, id in `Mcp-Session-Id`), later requests go to their session's transport,
/// DELETE ends it. Authentication is the framework's (the API's bearer tokens).
public actor MCPHTTPSessions {
    private struct Session {
        let server: Server
        let transport: StatefulHTTPServerTransport
        var lastUsed: Date
    }

    private struct FixedSessionID: SessionIDGenerator {
        let id: String
        func generateSessionID() -> String { id }
    }

    private let context: MCPContext
    private let maxSessions: Int
    private var sessions: [String: Session] = [:]

    /// - Parameter maxSessions: sessions kept at most; opening one more ends the least recently used.
    public init(context: MCPContext, maxSessions: Int = 64) {
        self.context = context
        self.maxSessions = maxSessions
    }

    /// Answers one HTTP request to the endpoint.
    public func handle(_ request: MCP.HTTPRequest) async -> MCP.HTTPResponse {
        let sessionID = request.header(HTTPHeaderName.sessionID)
        if let sessionID, var session = sessions[sessionID] {
            session.lastUsed = Date()
            sessions[sessionID] = session
            let response = await session.transport.handleRequest(request)
            if request.method.uppercased() == "DELETE", response.statusCode == 200 {
                sessions[sessionID] = nil
                await session.server.stop()
            }
            return response
        }
        if request.method.uppercased() == "POST", let body = request.body, Self.isInitialize(body) {
            return await open(request)
        }
        if sessionID != nil { return .error(statusCode: 404, .invalidRequest("Not Found: no such session (it ended)")) }
        return .error(statusCode: 400, .invalidRequest("Bad Request: missing \(HTTPHeaderName.sessionID) header"))
    }

    /// Ends every session and stops the surveys they left running (the server is shutting down).
    public func closeAll() async {
        let open = sessions.values
        sessions = [:]
        for session in open { await session.server.stop() }
        await context.background.cancelAll()
    }

    public var count: Int { sessions.count }

    /// Whether `body` is a JSON-RPC `initialize` request (a request with an id, not a batch).
    static func isInitialize(_ body: Data) -> Bool {
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else { return false }
        return object["method"] as? String == Initialize.name && object["id"] != nil
    }

    private func open(_ request: MCP.HTTPRequest) async -> MCP.HTTPResponse {
        if sessions.count >= maxSessions, let oldest = sessions.min(by: { $0.value.lastUsed < $1.value.lastUsed }) {
            sessions[oldest.key] = nil
            await oldest.value.server.stop()
        }
        let id = UUID().uuidString
        let transport = StatefulHTTPServerTransport(sessionIDGenerator: FixedSessionID(id: id),
                                                    validationPipeline: SameOriginValidator.pipeline)
        let server = await ConvergeMCPServer.make(context)
        do {
            try await server.start(transport: transport)
        } catch {
            return .error(statusCode: 500, .internalError("the MCP session could not start: \(error)"))
        }
        sessions[id] = Session(server: server, transport: transport, lastUsed: Date())
        return await transport.handleRequest(request)
    }
}
