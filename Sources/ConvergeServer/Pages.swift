import ConvergeAPI
import ConvergeCore
import ConvergeReport
import Foundation
import HTTPTypes
import Hummingbird

/// The web pages: `/login` (when tokens are configured) and `/` = `/analyze`, a form for pasting answers
/// that posts back to the server and shows the report. Pages need no script; every text they show is escaped
/// (`HTML.escape`), and they are sent with a strict Content-Security-Policy.
struct Pages<Context: RequestContext>: Sendable {
    let dependencies: ServerDependencies
    let tokens: APITokens
    let sessions: SessionStore
    let maxBodyBytes: Int

    static var defaultSlots: Int { 3 }
    static var maxSlots: Int { 12 }

    func register(on routes: RouteRegistry<Context>) {
        routes.on("/", method: .get) { request, _ in try await analyzePage(request) }
        routes.on("/analyze", method: .get) { request, _ in try await analyzePage(request) }
        routes.on("/analyze", method: .post) { request, _ in try await analyze(request) }
        routes.on("/login", method: .get) { request, _ in
            loginPage(next: Self.safeNext(request.uri.queryParameters["next"].map(String.init)))
        }
        routes.on("/login", method: .post) { request, _ in try await login(request) }
        routes.on("/logout", method: .post) { request, _ in await logout(request) }
    }

    // MARK: Analyze

    struct AnalyzeForm: Decodable, Sendable {
        var prompt: String?
        var rubric: String?
        var blind: String?
        var label: [String]?
        var answer: [String]?
    }

    func analyzePage(_ request: Request) async throws -> Response {
        let slots = request.uri.queryParameters["answers"].flatMap { Int($0) }.map { min(max($0, 1), Self.maxSlots) }
            ?? Self.defaultSlots
        return page(title: "Analyze answers", body: analyzeForm(AnalyzeForm(), slots: slots))
    }

    func analyze(_ request: Request) async throws -> Response {
        let form = try await decodeForm(AnalyzeForm.self, request)
        let labels = form.label ?? []
        let texts = form.answer ?? []
        let slots = min(max(texts.count, Self.defaultSlots), Self.maxSlots)
        var answers: [Components.Schemas.AnswerInput] = []
        for (n, text) in texts.enumerated() where !text.trimmingWhitespace.isEmpty {
            let label = n < labels.count ? labels[n].trimmingWhitespace : ""
            answers.append(.init(panelist: "ai-\(answers.count + 1)", label: label.isEmpty ? nil : label, text: text))
        }
        guard !answers.isEmpty else {
            return page(title: "Analyze answers", status: .badRequest,
                        body: errorBox("Paste at least one answer.") + analyzeForm(form, slots: slots))
        }
        let rubricText = form.rubric ?? ""
        let promptText = form.prompt ?? ""
        let body = Components.Schemas.AnalysisRequest(
            prompt: promptText.trimmingWhitespace.isEmpty ? nil : promptText,
            answers: answers,
            rubric: rubricText.trimmingWhitespace.isEmpty ? nil : .RubricYAML(rubricText),
            blind: form.blind != nil,
            similarity: .lexical)
        let report: Report
        do throws(APIError) {
            let job = try AnalysisJob(body)
            let clock = ContinuousClock()
            let start = clock.now
            report = dependencies.analyses.analyze(job)
            dependencies.metrics.recordAnalysis(format: "page", duration: clock.now - start)
        } catch {
            return page(title: "Analyze answers", status: error.status,
                        body: errorBox(error.message) + analyzeForm(form, slots: slots))
        }
        return page(title: "Report", body: reportSection(report) + analyzeForm(form, slots: slots))
    }

    private func analyzeForm(_ form: AnalyzeForm, slots: Int) -> String {
        var html = """
            <form method="post" action="/analyze">
            <p><label for="prompt">Prompt (optional)</label><br>
            <textarea id="prompt" name="prompt" rows="3">\(HTML.escape(form.prompt ?? ""))</textarea></p>

            """
        let labels = form.label ?? []
        let texts = form.answer ?? []
        for n in 0..<slots {
            let label = n < labels.count ? labels[n] : ""
            let text = n < texts.count ? texts[n] : ""
            html += """
                <fieldset><legend>Answer \(n + 1)</legend>
                <p><label for="label\(n)">Label (optional)</label>
                <input type="text" id="label\(n)" name="label[]" value="\(HTML.escape(label))" placeholder="AI \(n + 1)"></p>
                <p><textarea name="answer[]" aria-label="Answer \(n + 1)">\(HTML.escape(text))</textarea></p>
                </fieldset>

                """
        }
        html += """
            <p><a href="/analyze?answers=\(min(slots + 1, Self.maxSlots))">More answer boxes</a></p>
            <p><label for="rubric">Rubric YAML (optional)</label><br>
            <textarea id="rubric" name="rubric" rows="6" placeholder="title: ...&#10;categories:&#10;  - name: ...&#10;    items:&#10;      - id: ...&#10;        text: ...">\(HTML.escape(form.rubric ?? ""))</textarea></p>
            <p><label><input type="checkbox" name="blind" value="on"\(form.blind != nil ? " checked" : "")> Blind labels (AI 1, AI 2, ...)</label></p>
            <p><button type="submit">Analyze</button></p>
            </form>

            """
        return html
    }

    private func reportSection(_ report: Report) -> String {
        let answered = report.answered.count
        let index = String(format: "%.2f", report.convergence.index)
        // The Markdown report, shown as text; the HTML renderer (ConvergeReport) replaces this once it lands.
        let text = ReportRenderer.render(report, format: .md)
        return """
            <section id="report">
            <h2>Report</h2>
            <p>Convergence index <strong>\(HTML.escape(index))</strong> across \(answered) answering panelist\(answered == 1 ? "" : "s"); \
            \(report.keyPoints.count) key points, \(report.terms.count) terms, \(report.conflicts.count) conflicts, \
            \(report.omissions.count) omissions.</p>
            <pre class="report">\(HTML.escape(text))</pre>
            </section>

            """
    }

    // MARK: Login

    func loginPage(next: String, status: HTTPResponse.Status = .ok, message: String? = nil) -> Response {
        if tokens.isEmpty { return .redirect(to: next, type: .normal) }
        let body = (message.map(errorBox) ?? "") + """
            <form method="post" action="/login">
            <p><label for="token">API token</label><br>
            <input type="password" id="token" name="token" autocomplete="current-password" required autofocus></p>
            <input type="hidden" name="next" value="\(HTML.escape(next))">
            <p><button type="submit">Sign in</button></p>
            </form>

            """
        return page(title: "Sign in", status: status, body: body, signedIn: false)
    }

    struct LoginForm: Decodable, Sendable {
        var token: String?
        var next: String?
    }

    func login(_ request: Request) async throws -> Response {
        let form = try await decodeForm(LoginForm.self, request)
        let next = Self.safeNext(form.next)
        if tokens.isEmpty { return .redirect(to: next, type: .normal) }
        guard let token = form.token, tokens.accepts(token) else {
            return loginPage(next: next, status: .unauthorized, message: "That token is not valid.")
        }
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

    // MARK: Helpers

    private func decodeForm<T: Decodable>(_ type: T.Type, _ request: Request) async throws -> T {
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        guard contentType.hasPrefix("application/x-www-form-urlencoded") else {
            throw APIError(.unsupportedMediaType, code: "unsupported_media_type",
                           "the form must be sent as application/x-www-form-urlencoded")
        }
        let buffer = try await request.body.collect(upTo: maxBodyBytes)
        do {
            return try URLEncodedFormDecoder().decode(T.self, from: String(buffer: buffer))
        } catch {
            throw APIError(.badRequest, code: "bad_request", "the form could not be read")
        }
    }

    private func errorBox(_ message: String) -> String {
        "<p class=\"error\" role=\"alert\">\(HTML.escape(message))</p>\n"
    }

    private func page(title: String, status: HTTPResponse.Status = .ok, body: String, signedIn: Bool? = nil) -> Response {
        let html = HTML.page(title: title, body: body, signedIn: signedIn ?? !tokens.isEmpty)
        return Response(status: status, headers: Self.pageHeaders, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    static var pageHeaders: HTTPFields {
        [
            .contentType: "text/html; charset=utf-8",
            .cacheControl: "no-store",
            .contentSecurityPolicy: "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            .xContentTypeOptions: "nosniff",
            .referrerPolicy: "no-referrer",
        ]
    }
}

extension HTTPField.Name {
    static let xContentTypeOptions = Self("X-Content-Type-Options")!
    static let referrerPolicy = Self("Referrer-Policy")!
}
