import Crypto
import Foundation
import Hummingbird

/// Who may reach what (issue 6): with API tokens configured, the API (`/v1/...`), `/mcp` and `/metrics` need
/// `Authorization: Bearer TOKEN`; the pages (every other path: `/`, `/analyze`, `/surveys...`, including the
/// live page's event stream, which a browser's `EventSource` cannot send a token to) need the session cookie
/// that `/login` sets; `/healthz`, `/openapi.yaml`, `/login` and `/assets/` are open. Without tokens
/// (loopback only) everything is open.
enum AccessPolicy {
    enum Kind: Equatable { case open, page, api }

    static let openPaths: Set<String> = ["/healthz", "/openapi.yaml", "/login"]
    static let apiPaths: Set<String> = ["/metrics", "/v1", "/mcp"]

    static func kind(of path: String) -> Kind {
        if openPaths.contains(path) || path.hasPrefix("/assets/") { return .open }
        if apiPaths.contains(path) || path.hasPrefix("/v1/") { return .api }
        return .page
    }

    /// The token of an `Authorization: Bearer TOKEN` header (scheme in any case), if any.
    static func bearerToken(_ request: Request) -> Substring? {
        guard let value = request.headers[.authorization] else { return nil }
        let parts = value.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].drop { $0 == " " }
        return token.isEmpty ? nil : token
    }
}

/// Enforces `AccessPolicy`: 401 with the JSON error for the API, a redirect to `/login` for pages.
struct AuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let tokens: APITokens
    let sessions: SessionStore

    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        guard !tokens.isEmpty else { return try await next(request, context) }
        switch AccessPolicy.kind(of: request.uri.path) {
        case .open:
            return try await next(request, context)
        case .api:
            guard let token = AccessPolicy.bearerToken(request), tokens.accepts(token) else {
                throw APIError.unauthorized
            }
            return try await next(request, context)
        case .page:
            if let id = request.cookies[SessionStore.cookieName]?.value, await sessions.isValid(id) {
                return try await next(request, context)
            }
            // A page's script (the event stream) cannot follow a login form: it gets 401, not a redirect.
            if request.headers[.accept]?.contains("text/event-stream") == true { throw APIError.unauthorized }
            let target = request.uri.path == "/logout" ? "/" : request.uri.path
            return Response.redirect(to: "/login?next=\(target.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "/")",
                                     type: .found)
        }
    }
}

/// Login sessions for the pages, kept in signed cookies so that a server restart does not sign anyone out
/// (an open live page reconnects after a restart).
///
/// A session id is `EXPIRY.NONCE.MAC`: the expiry in Unix seconds, 128 random bits (the system's secure
/// generator), and HMAC-SHA256 (RFC 2104) over `EXPIRY.NONCE` with a key derived from the API tokens
/// (``APITokens/sessionSecret``), so changing the tokens ends every session. Signing out revokes the id in
/// memory until it expires; a restart forgets revocations (the cookie is also deleted from the browser).
actor SessionStore {
    static let cookieName = "converge_session"
    let lifetime: Duration
    let capacity: Int
    private let key: SymmetricKey
    private var revoked: [String: Int] = [:]

    init(secret: [UInt8], lifetime: Duration = .seconds(12 * 3600), capacity: Int = 10_000) {
        self.key = SymmetricKey(data: secret)
        self.lifetime = lifetime
        self.capacity = capacity
    }

    /// A new session id, valid for `lifetime`.
    func create() -> String {
        let expiry = Int(Date().timeIntervalSince1970) + Int(lifetime.components.seconds)
        var generator = SystemRandomNumberGenerator()
        let nonce = (0..<2).map { _ in String(generator.next() as UInt64, radix: 16).leftPadded(to: 16) }.joined()
        let payload = "\(expiry).\(nonce)"
        return payload + "." + Self.hex(HMAC<SHA256>.authenticationCode(for: Array(payload.utf8), using: key))
    }

    func isValid(_ id: String) -> Bool {
        let parts = id.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let expiry = Int(parts[0]), parts[1].count == 32, parts[2].count == 64,
              let mac = Self.bytes(hex: parts[2]) else { return false }
        let payload = Array("\(parts[0]).\(parts[1])".utf8)
        guard HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: payload, using: key) else { return false }
        let now = Int(Date().timeIntervalSince1970)
        return expiry > now && revoked[id] == nil
    }

    func remove(_ id: String) {
        guard isValid(id), let expiry = Int(id.prefix { $0 != "." }) else { return }
        let now = Int(Date().timeIntervalSince1970)
        if revoked.count >= capacity { revoked = revoked.filter { $0.value > now } }
        if revoked.count < capacity { revoked[id] = expiry }
    }

    private static func hex(_ code: some Sequence<UInt8>) -> String {
        code.map { String($0, radix: 16).leftPadded(to: 2) }.joined()
    }

    private static func bytes(hex: Substring) -> [UInt8]? {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        return bytes
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
