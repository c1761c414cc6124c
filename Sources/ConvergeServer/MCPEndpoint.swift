import ConvergeMCP
import Foundation
import HTTPTypes
import Hummingbird
import MCP
import NIOCore
import ServiceLifecycle

/// `/mcp`: the Model Context Protocol's streamable HTTP transport (issue 18), the same tools as `converge mcp`
/// (ConvergeMCP). POST carries JSON-RPC messages (answers come as an event stream), GET opens the session's
/// stream of server notifications, DELETE ends the session. It is part of the API for `AccessPolicy`: with API
/// tokens, every request needs `Authorization: Bearer TOKEN`.
enum MCPEndpoint {
    static let path = "/mcp"

    static func register<Context: Hummingbird.RequestContext>(on routes: RouteRegistry<Context>, sessions: MCPHTTPSessions,
                                                  maxBodyBytes: Int) {
        for method in [HTTPTypes.HTTPRequest.Method.post, .get, .delete] {
            routes.on(path, method: method) { request, _ in
                let body = try await request.body.collect(upTo: maxBodyBytes)
                // HTTPTypes keeps `Host` as the authority, not a header field; the origin check needs it.
                var headers: [String: String] = request.head.authority.map { ["Host": $0] } ?? [:]
                for field in request.headers {
                    let name = field.name.canonicalName
                    headers[name] = headers[name].map { "\($0), \(field.value)" } ?? field.value
                }
                let mcpRequest = MCP.HTTPRequest(method: request.method.rawValue, headers: headers,
                                                 body: body.readableBytes > 0 ? Data(body.readableBytesView) : nil,
                                                 path: request.uri.path)
                return response(await sessions.handle(mcpRequest))
            }
        }
    }

    static func response(_ response: MCP.HTTPResponse) -> Hummingbird.Response {
        var headers = HTTPFields()
        for (name, value) in response.headers {
            if let field = HTTPField.Name(name) { headers[field] = value }
        }
        let status = HTTPTypes.HTTPResponse.Status(code: response.statusCode)
        switch response {
        case .stream(let stream, _):
            return Hummingbird.Response(status: status, headers: headers,
                            body: ResponseBody(asyncSequence: stream.map { ByteBuffer(bytes: $0) }))
        default:
            return Hummingbird.Response(status: status, headers: headers,
                            body: ResponseBody(byteBuffer: ByteBuffer(bytes: response.bodyData ?? Data())))
        }
    }
}

/// Ends the MCP sessions on a graceful shutdown (surveys they left running become `interrupted`).
struct MCPSessionsService: Service {
    let sessions: MCPHTTPSessions

    func run() async throws {
        try? await gracefulShutdown()
        await sessions.closeAll()
    }
}
