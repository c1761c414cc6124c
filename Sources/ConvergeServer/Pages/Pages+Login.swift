import Foundation
import HTTPTypes
import Hummingbird

/// `/login` and `/logout`: a form that takes an API token and sets the session cookie.
extension Pages {
    func loginPage(next: String, status: HTTPResponse.Status = .ok, message: String? = nil,
                   headers: HTTPFields = [:]) -> Response {
        if tokens.isEmpty { return .redirect(to: next, type: .normal) }
        let body = (message.map(errorBox) ?? "") + """
            <form method="post" action="/login">
            <input type="text" name="username" value="converge" autocomplete="username" hidden>
            <p><label for="token">API token</label><br>
            <input type="password" id="token" name="token" autocomplete="current-password" required autofocus></p>
            <input type="hidden" name="next" value="\(HTML.escape(next))">
            <p><button type="submit">Sign in</button></p>
            </form>

            """
        var response = page(title: "Sign in", status: status, body: body, signedIn: false)
        for field in headers { response.headers.append(field) }
        return response
    }

    struct LoginForm: Decodable, Sendable {
        var token: String?
        var next: String?
    }

    /// Checks the token; repeated failures from one address are slowed down (``LoginThrottle``: 429 with
    /// `Retry-After`), so that tokens cannot be guessed at network speed.
    func login(_ request: Request, context: Context) async throws -> Response {
        let form = try await decodeForm(LoginForm.self, request)
        let next = Self.safeNext(form.next)
        if tokens.isEmpty { return .redirect(to: next, type: .normal) }
        let client = (context as? ConvergeRequestContext)?.remoteHost ?? "unknown"
        if let wait = await loginThrottle.delay(for: client) {
            let seconds = max(1, Int(wait.components.seconds))
            return loginPage(next: next, status: .tooManyRequests,
                             message: "Too many failed sign-ins; try again in \(seconds) s.",
                             headers: [.retryAfter: String(seconds)])
        }
        guard let token = form.token, tokens.accepts(token) else {
            await loginThrottle.failed(client)
            return loginPage(next: next, status: .unauthorized, message: "That token is not valid.")
        }
        await loginThrottle.succeeded(client)
        let id = await sessions.create()
        var response = Response.redirect(to: next, type: .normal)
        response.setCookie(Cookie(name: SessionStore.cookieName, value: id,
                                  maxAge: Int(sessions.lifetime.components.seconds), path: "/",
                                  secure: false, httpOnly: true, sameSite: .strict))
        return response
    }

    func logout(_ request: Request) async -> Response {
        if let id = request.cookies[SessionStore.cookieName]?.value { await sessions.remove(id) }
        var response = Response.redirect(to: tokens.isEmpty ? "/" : "/login", type: .normal)
        response.setCookie(Cookie(name: SessionStore.cookieName, value: "", maxAge: 0, path: "/",
                                  secure: false, httpOnly: true, sameSite: .strict))
        return response
    }

    /// A local path to go to after signing in; anything else (other hosts, `//host`, backslashes) is `/`.
    static func safeNext(_ next: String?) -> String {
        guard let next, next.hasPrefix("/"), !next.hasPrefix("//"), !next.contains("\\"),
              !next.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else { return "/" }
        return next
    }
}
