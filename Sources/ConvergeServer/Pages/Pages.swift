import ConvergeCore
import ConvergeReport
import Foundation
import HTTPTypes
import Hummingbird

/// The web pages (issue 6):
///
/// - `/surveys` (the stored surveys, newest first), `/surveys/new` (a form to start one: prompt, panel,
///   follow-ups, rubric upload), `/surveys/{id}` (the live survey page: answers fill in as they arrive over
///   Server-Sent Events from `/surveys/{id}/events`, then the report), `/surveys/{id}/report` (the HTML
///   report, or `?format=json|md|csv` as a download);
/// - `/analyze`: a form for pasting answers, answered with the report on the same page; `/` goes to
///   `/surveys`, or to `/analyze` when the server has no store;
/// - `/batches/{id}` (how far a batch's surveys are) and `/batches/{id}/report` (its batch report, HTML);
/// - `/login` and `/logout` when API tokens are configured (a cookie session; see ``AuthMiddleware``).
///
/// Every text a page shows is escaped (`HTML.escape`); pages are sent with a strict Content-Security-Policy
/// that allows only this server's own script (`/assets/survey.js`), which writes answers with `textContent`.
/// Forms post back to the same origin; ``SameOriginMiddleware`` refuses cross-site posts.
struct Pages<Context: RequestContext>: Sendable {
    let dependencies: ServerDependencies
    let tokens: APITokens
    let sessions: SessionStore
    let loginThrottle: LoginThrottle
    let maxBodyBytes: Int

    func register(on routes: RouteRegistry<Context>) {
        routes.on("/", method: .get) { request, _ in
            dependencies.surveys == nil ? try await analyzePage(request) : .redirect(to: "/surveys", type: .found)
        }
        routes.on("/analyze", method: .get) { request, _ in try await analyzePage(request) }
        routes.on("/analyze", method: .post) { request, _ in try await analyze(request) }
        routes.on("/login", method: .get) { request, _ in
            loginPage(next: Self.safeNext(request.uri.queryParameters["next"].map(String.init)))
        }
        routes.on("/login", method: .post) { request, context in try await login(request, context: context) }
        routes.on("/logout", method: .post) { request, _ in await logout(request) }
        routes.on("/assets/survey.js", method: .get) { _, _ in Self.script() }
        registerSurveyPages(on: routes)
        registerBatchPages(on: routes)
    }

    // MARK: Shared

    /// Decodes an `application/x-www-form-urlencoded` body (Hummingbird's `URLEncodedFormDecoder`).
    /// - Throws: `APIError` 415 for another media type, 400 for a body that is not a form of `T`.
    func decodeForm<T: Decodable>(_ type: T.Type, _ request: Request) async throws -> T {
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        guard contentType.hasPrefix("application/x-www-form-urlencoded") else {
            throw APIError(.unsupportedMediaType, code: .unsupportedMediaType,
                           "the form must be sent as application/x-www-form-urlencoded")
        }
        let buffer = try await request.body.collect(upTo: maxBodyBytes)
        do {
            return try URLEncodedFormDecoder().decode(T.self, from: String(buffer: buffer))
        } catch {
            throw APIError(.badRequest, code: .badRequest, "the form could not be read")
        }
    }

    func errorBox(_ message: String) -> String {
        "<p class=\"error\" role=\"alert\">\(HTML.escape(message))</p>\n"
    }

    /// A page of the site: the header with navigation, then `body` (HTML built with `HTML.escape`).
    func page(title: String, status: HTTPResponse.Status = .ok, body: String, signedIn: Bool? = nil,
              script: Bool = true) -> Response {
        let html = HTML.page(title: title, body: body, signedIn: signedIn ?? !tokens.isEmpty,
                             navigation: signedIn != false, script: script ? "/assets/survey.js" : nil)
        return Response(status: status, headers: Self.pageHeaders,
                        body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// An error of a page's own request as a page (the API answers JSON; a person gets HTML).
    func errorPage(_ error: APIError, title: String = "Error") -> Response {
        page(title: title, status: error.status, body: errorBox(error.message))
    }

    /// Runs a page handler, showing an `APIError` it throws as an error page.
    func showingErrors(_ body: () async throws -> Response) async throws -> Response {
        do {
            return try await body()
        } catch let error as APIError {
            return errorPage(error)
        }
    }

    /// Headers of every page. The only script allowed is this server's own file; the report is framed only
    /// by this site's pages (see ``reportHeaders``).
    static var pageHeaders: HTTPFields {
        [
            .contentType: "text/html; charset=utf-8",
            .cacheControl: "no-store",
            .contentSecurityPolicy: "default-src 'none'; script-src 'self'; connect-src 'self'; frame-src 'self'; "
                + "style-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            .xContentTypeOptions: "nosniff",
            .referrerPolicy: "same-origin",
        ]
    }

    /// Headers of the HTML report: no script at all, framed only by this site.
    static var reportHeaders: HTTPFields {
        [
            .contentType: "text/html; charset=utf-8",
            .cacheControl: "no-store",
            .contentSecurityPolicy: "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                + "form-action 'none'; frame-ancestors 'self'; base-uri 'none'",
            .xContentTypeOptions: "nosniff",
            .referrerPolicy: "same-origin",
        ]
    }

    /// `/assets/survey.js` (Sources/ConvergeServer/Assets/survey.js, embedded in the binary).
    static func script() -> Response {
        Response(status: .ok,
                 headers: [.contentType: "text/javascript; charset=utf-8", .cacheControl: "no-cache",
                           .xContentTypeOptions: "nosniff"],
                 body: .init(byteBuffer: ByteBuffer(bytes: PackageResources.survey_js)))
    }
}

extension HTTPField.Name {
    static let xContentTypeOptions = Self("X-Content-Type-Options")!
    static let referrerPolicy = Self("Referrer-Policy")!
}
