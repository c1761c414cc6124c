import Foundation
import HTTPTypes
import Hummingbird

/// Guards the pages against cross-site request forgery and DNS rebinding.
///
/// - A form post (any method but GET/HEAD/OPTIONS) to a page is refused (403) when the browser says it came
///   from another site: `Sec-Fetch-Site` other than `same-origin`/`none` (W3C Fetch Metadata), or, from a
///   browser that does not send it, an `Origin` that is not this server's (`scheme://Host`). This also covers the no-token loopback mode,
///   where there is no session cookie for SameSite to protect.
/// - Without API tokens the server is loopback only; a request whose `Host` is not a loopback name
///   (`localhost`, `127.x.x.x`, `[::1]`) is refused (421), so that a web page on another site cannot reach
///   it by rebinding its own host name to 127.0.0.1.
///
/// The API (`/v1/...`) is not a page: its requests carry a JSON body (a cross-site form cannot send one
/// without a CORS preflight, which the server does not grant) or a bearer token.
struct SameOriginMiddleware<Context: RequestContext>: RouterMiddleware {
    let requireLoopbackHost: Bool

    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        let host = request.head.authority
        if requireLoopbackHost {
            // A request without a host name at all cannot come from a browser; the rebinding case always has one.
            if let host, !ServerConfiguration.isLoopback(Self.hostName(host)) {
                throw APIError(.misdirectedRequest, code: .misdirectedRequest,
                               "this server answers only to a loopback host name (localhost, 127.0.0.1, [::1])")
            }
        }
        let method = request.method
        if method != .get && method != .head && method != .options
            && AccessPolicy.kind(of: request.uri.path) != .api {
            // Fetch Metadata first: browsers set it and pages cannot forge it. `Origin` is the fallback for
            // browsers without it (a page with `Referrer-Policy: no-referrer` would send `Origin: null` even
            // to itself, so the pages use `same-origin`).
            if let site = request.headers[.secFetchSite]?.lowercased() {
                guard site == "same-origin" || site == "none" else { throw Self.forbidden }
            } else if let origin = request.headers[.origin] {
                guard let host, origin.lowercased() == "http://\(host.lowercased())"
                    || origin.lowercased() == "https://\(host.lowercased())" else { throw Self.forbidden }
            }
        }
        return try await next(request, context)
    }

    static var forbidden: APIError { APIError(.forbidden, code: .forbidden, "cross-site form posts are refused") }

    /// `host` of `host:port` or `[v6]:port`.
    static func hostName(_ authority: String) -> String {
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            return String(authority[...close])
        }
        if let colon = authority.lastIndex(of: ":"), authority.firstIndex(of: ":") == colon {
            return String(authority[..<colon])
        }
        return authority
    }
}

extension HTTPField.Name {
    static let secFetchSite = Self("Sec-Fetch-Site")!
}
