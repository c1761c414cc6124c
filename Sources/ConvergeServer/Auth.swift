import Foundation
import Hummingbird

/// Who may reach what (issue 6): with API tokens configured, the API (`/v1/...`) and `/metrics` need
/// `Authorization: Bearer TOKEN`; the pages (every other path: `/`, `/analyze`, `/surveys...`, including the
/// live page's event stream, which a browser's `EventSource` cannot send a token to) need the session cookie
/// that `/login` sets; `/healthz`, `/openapi.yaml`, `/login` and `/assets/` are open. Without tokens
/// (loopback only) everything is open.
enum AccessPolicy {
    enum Kind: Equatable { case open, page, api }

    static let openPaths: Set<String> = ["/healthz", "/openapi.yaml", "/login"]
    static let apiPaths: Set<String> = ["/metrics", "/v1"]

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

/// Login sessions for the pages: random ids (256 bits from the system's secure generator) that expire.
/// Kept in memory: a restart logs everyone out.
actor SessionStore {
    static let cookieName = "converge_session"
    let lifetime: Duration
    let capacity: Int
    private var expiries: [String: ContinuousClock.Instant] = [:]

    init(lifetime: Duration = .seconds(12 * 3600), capacity: Int = 10_000) {
        self.lifetime = lifetime
        self.capacity = capacity
    }

    /// A new session id, valid for `lifetime`.
    func create() -> String {
        let now = ContinuousClock.now
        if expiries.count >= capacity {
            expiries = expiries.filter { $0.value > now }
            if expiries.count >= capacity, let oldest = expiries.min(by: { $0.value < $1.value })?.key {
                expiries[oldest] = nil
            }
        }
        var generator = SystemRandomNumberGenerator()
        let id = (0..<4).map { _ in String(generator.next() as UInt64, radix: 16).leftPadded(to: 16) }.joined()
        expiries[id] = now + lifetime
        return id
    }

    func isValid(_ id: String) -> Bool {
        guard let expiry = expiries[id] else { return false }
        if expiry <= ContinuousClock.now {
            expiries[id] = nil
            return false
        }
        return true
    }

    func remove(_ id: String) { expiries[id] = nil }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
