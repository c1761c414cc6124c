import MCP

/// DNS rebinding and cross-site protection for `/mcp` (the protocol asks servers to check `Origin`): a request
/// that carries an `Origin` (a browser's) must come from the server's own origin, `http(s)://` + `Host`. The
/// SDK's localhost validator would refuse every host name but loopback ones, which a server with tokens may
/// have; the loopback-only server (no tokens) already refuses other `Host`s before the request gets here.
struct SameOriginValidator: HTTPRequestValidator {
    func validate(_ request: MCP.HTTPRequest, context: HTTPValidationContext) -> MCP.HTTPResponse? {
        guard let origin = request.header(HTTPHeaderName.origin)?.lowercased() else { return nil }
        if let host = request.header(HTTPHeaderName.host)?.lowercased(),
           origin == "http://\(host)" || origin == "https://\(host)" {
            return nil
        }
        return .error(statusCode: 403, .invalidRequest("Forbidden: Origin not allowed"), sessionID: context.sessionID)
    }

    /// The SDK's checks of the streamable HTTP transport, with this origin check instead of the localhost one.
    static let pipeline = StandardValidationPipeline(validators: [
        SameOriginValidator(), AcceptHeaderValidator(mode: .sseRequired), ContentTypeValidator(),
        ProtocolVersionValidator(), SessionValidator(),
    ])
}
