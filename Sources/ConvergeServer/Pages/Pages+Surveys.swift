import ConvergeCore
import ConvergeForms
import ConvergeProviders
import ConvergeReport
import ConvergeRunner
import ConvergeStore
import Foundation
import HTTPTypes
import Hummingbird

/// The survey pages: the list, the start form, the live survey page and its event stream, the report.
extension Pages {
    static var surveysPerPage: Int { 25 }
    static var defaultFollowUpSlots: Int { 2 }

    func registerSurveyPages(on routes: RouteRegistry<Context>) {
        routes.on("/surveys", method: .get) { request, _ in try await showingErrors { try await surveyList(request) } }
        routes.on("/surveys", method: .post) { request, _ in try await showingErrors { try await startSurvey(request) } }
        routes.on("/surveys/new", method: .get) { request, _ in
            let slots = request.uri.queryParameters["followUps"].flatMap { Int($0) }
                .map { min(max($0, 0), SurveyPlan.maxFollowUps) } ?? Self.defaultFollowUpSlots
            return startPage(StartForm(), followUpSlots: slots)
        }
        routes.on("/surveys/:id", method: .get) { _, context in
            try await showingErrors { try await surveyPage(try context.parameters.require("id")) }
        }
        routes.on("/surveys/:id/events", method: .get) { request, context in
            var stream = try await SurveyEventStream.make(service: try surveyService(), id: try context.parameters.require("id"),
                                                          blinding: true)
            if !tokens.isEmpty, let session = request.cookies[SessionStore.cookieName]?.value {
                stream = Self.ending(stream, whenSignedOut: session, sessions: sessions)
            }
            // Cache-Control and X-Accel-Buffering come from ResponseHeadersMiddleware, as for the API's stream.
            return Response(status: .ok, headers: [.contentType: "text/event-stream"],
                            body: ResponseBody(asyncSequence: stream.map { ByteBuffer(bytes: $0) }))
        }
        routes.on("/surveys/:id/report", method: .get) { request, context in
            try await showingErrors { try await surveyReport(try context.parameters.require("id"), request: request) }
        }
        routes.on("/surveys/:id/follow-ups", method: .post) { request, context in
            try await showingErrors { try await followUp(try context.parameters.require("id"), request: request) }
        }
        routes.on("/surveys/:id/delete", method: .post) { _, context in
            try await showingErrors {
                let id: String = try context.parameters.require("id")
                try await surveyService().delete(id)
                return .redirect(to: "/surveys", type: .normal)
            }
        }
    }

    /// `stream`, ended as soon as `session` is no longer valid (signed out, expired), checked every `interval`:
    /// an open live page stops receiving answers when its session ends (its reconnect then gets 401).
    static func ending(_ stream: AsyncStream<ArraySlice<UInt8>>, whenSignedOut session: String,
                       sessions: SessionStore, interval: Duration = .seconds(5)) -> AsyncStream<ArraySlice<UInt8>> {
        let (out, continuation) = AsyncStream.makeStream(of: ArraySlice<UInt8>.self, bufferingPolicy: .unbounded)
        let forward = Task {
            for await chunk in stream { continuation.yield(chunk) }
            continuation.finish()
        }
        let watch = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                if Task.isCancelled { return }
                if await !sessions.isValid(session) {
                    continuation.finish()
                    return
                }
            }
        }
        continuation.onTermination = { _ in
            forward.cancel()
            watch.cancel()
        }
        return out
    }

    func surveyService() throws(APIError) -> SurveyService {
        guard let surveys = dependencies.surveys else { throw APIError.noStore }
        return surveys
    }

    // MARK: List

    /// A list page's `offset` query parameter, clamped to 0...1,000,000 (0 when absent or not a number).
    static func pageOffset(_ request: Request) -> Int {
        min(max(request.uri.queryParameters["offset"].flatMap { Int($0) } ?? 0, 0), 1_000_000)
    }

    /// The Newer / Older links of a list page at `path` (empty when there is neither).
    static func pagingLinks(_ path: String, offset: Int, limit: Int, more: Bool) -> String {
        var links: [String] = []
        if offset > 0 { links.append("<a href=\"\(path)?offset=\(max(offset - limit, 0))\">Newer</a>") }
        if more { links.append("<a href=\"\(path)?offset=\(offset + limit)\">Older</a>") }
        return links.isEmpty ? "" : "<p class=\"paging\">\(links.joined(separator: " · "))</p>\n"
    }

    func surveyList(_ request: Request) async throws -> Response {
        let service = try surveyService()
        let offset = Self.pageOffset(request)
        let limit = Self.surveysPerPage
        let surveys: [StoredSurvey]
        do {
            surveys = try await service.store.surveys(limit: limit + 1, offset: offset)
        } catch {
            throw APIError.store(error, logger: service.logger)
        }
        var html = "<h2>Surveys</h2>\n<p><a href=\"/surveys/new\">Start a survey</a> · "
            + "<a href=\"/batches\">Batches</a> (many prompts, one survey each)</p>\n"
        if surveys.isEmpty {
            html += offset == 0 ? "<p>No surveys yet.</p>\n" : "<p>No more surveys.</p>\n"
        } else {
            html += """
                <div class="table-wrap"><table class="surveys">
                <thead><tr><th scope="col">Survey</th><th scope="col">Status</th><th scope="col">Prompt</th>\
                <th scope="col">Panel</th><th scope="col">Updated</th></tr></thead>
                <tbody>

                """
            for survey in surveys.prefix(limit) {
                html += """
                    <tr><td><a href="/surveys/\(HTML.escape(survey.id))"><code>\(HTML.escape(survey.id))</code></a></td>\
                    <td><span class="status" data-status="\(survey.status.rawValue)">\(survey.status.rawValue)</span></td>\
                    <td>\(HTML.escape(Self.clipped(survey.prompt, to: 140)))</td><td>\(survey.panelSize)</td>\
                    <td><time datetime="\(Self.iso(survey.updatedAt))">\(Self.iso(survey.updatedAt))</time></td></tr>

                    """
            }
            html += "</tbody>\n</table></div>\n"
        }
        html += Self.pagingLinks("/surveys", offset: offset, limit: limit, more: surveys.count > limit)
        return page(title: "Surveys", body: html)
    }

    // MARK: Start

    /// The start form's fields (`multipart/form-data`, so that a rubric file can be uploaded).
    struct StartForm: Sendable {
        var prompt = ""
        var panel = ""
        var followUps: [String] = []
        var samples = "1"
        var temperature = ""
        var maxTokens = ""
        var system = ""
        var rubricText = ""
        var blind = false
        /// `lexical`, `embedding` or `hybrid`; empty: the server's default.
        var similarity = ""
        var judge = ""
        var draftRubric = ""
    }

    func startPage(_ form: StartForm, followUpSlots: Int, status: HTTPResponse.Status = .ok,
                   error: String? = nil) -> Response {
        let slots = max(followUpSlots, form.followUps.count)
        var html = "<h2>Start a survey</h2>\n" + (error.map(errorBox) ?? "") + """
            <form method="post" action="/surveys" enctype="multipart/form-data">
            <p><label for="prompt">Prompt</label><br>
            <textarea id="prompt" name="prompt" rows="5" required>\(HTML.escape(form.prompt))</textarea></p>
            <p><label for="panel">Panel: one model per line, as <code>provider/model</code></label><br>
            <textarea id="panel" name="panel" rows="4" required \
            placeholder="openai/gpt-4o&#10;anthropic/claude-sonnet-4-5&#10;gemini/gemini-2.5-pro">\(HTML.escape(form.panel))</textarea></p>

            """
        for n in 0..<slots {
            let text = n < form.followUps.count ? form.followUps[n] : ""
            html += """
                <p><label for="followUp\(n)">Follow-up \(n + 1) (optional)</label><br>
                <textarea id="followUp\(n)" name="followUp" rows="2">\(HTML.escape(text))</textarea></p>

                """
        }
        if slots < SurveyPlan.maxFollowUps {
            html += "<p><a id=\"more-follow-ups\" data-max=\"\(SurveyPlan.maxFollowUps)\" "
                + "href=\"/surveys/new?followUps=\(slots + 1)\">More follow-up boxes</a></p>\n"
        }
        let settingsOpen = !(form.system.isEmpty && form.temperature.isEmpty && form.maxTokens.isEmpty && form.samples == "1")
        html += """
            <details\(settingsOpen ? " open" : "")><summary>Settings</summary>
            <p><label for="samples">Samples per panelist</label>
            <input type="number" id="samples" name="samples" min="1" max="10" value="\(HTML.escape(form.samples))"></p>
            <p><label for="temperature">Temperature (optional)</label>
            <input type="text" inputmode="decimal" id="temperature" name="temperature" value="\(HTML.escape(form.temperature))"></p>
            <p><label for="maxTokens">Max tokens (optional)</label>
            <input type="text" inputmode="numeric" id="maxTokens" name="maxTokens" value="\(HTML.escape(form.maxTokens))"></p>
            <p><label for="system">System prompt (optional)</label><br>
            <textarea id="system" name="system" rows="2">\(HTML.escape(form.system))</textarea></p>
            </details>
            <p><label for="rubric">Rubric YAML file (optional)</label>
            <input type="file" id="rubric" name="rubric" accept=".yaml,.yml,text/yaml,application/yaml"></p>
            <p><label for="rubricText">or paste the rubric YAML</label><br>
            <textarea id="rubricText" name="rubricText" rows="4">\(HTML.escape(form.rubricText))</textarea></p>
            <p><label for="draftRubric">or have a model draft the rubric from the prompt alone (optional, provider/model; \
            the survey starts once it is written)</label><br>
            <input id="draftRubric" name="draftRubric" maxlength="200" value="\(HTML.escape(form.draftRubric))"></p>
            <p><label><input type="checkbox" name="blind" value="on"\(form.blind ? " checked" : "")> Blind labels (AI 1, AI 2, ...)</label></p>
            \(similaritySelect(form.similarity.isEmpty ? nil : form.similarity))
            <p><label for="judge">Judge model (optional, provider/model; asked once the panel has answered)</label><br>
            <input id="judge" name="judge" maxlength="200" value="\(HTML.escape(form.judge))"></p>
            <p><button type="submit">Start</button></p>
            </form>

            """
        return page(title: "Start a survey", status: status, body: html)
    }

    /// Reads the start form, checks it exactly as `POST /v1/surveys` does (``SurveyPlan``), stores and starts
    /// the survey, and redirects (303) to its live page. A wrong field shows the form again, filled in, with
    /// the error naming the field (panel line, follow-up number, rubric line).
    func startSurvey(_ request: Request) async throws -> Response {
        let service = try surveyService()
        let fields = try await FormData.read(request, maxBytes: maxBodyBytes)
        var form = StartForm()
        form.prompt = fields.text("prompt") ?? ""
        form.panel = fields.text("panel") ?? ""
        form.followUps = fields.texts("followUp")
        form.samples = fields.text("samples")?.trimmingWhitespace ?? "1"
        form.temperature = fields.text("temperature")?.trimmingWhitespace ?? ""
        form.maxTokens = fields.text("maxTokens")?.trimmingWhitespace ?? ""
        form.system = fields.text("system") ?? ""
        form.rubricText = fields.text("rubricText") ?? ""
        form.blind = fields.text("blind") != nil
        form.similarity = fields.text("similarity")?.trimmingWhitespace ?? ""
        form.judge = fields.text("judge")?.trimmingWhitespace ?? ""
        form.draftRubric = fields.text("draftRubric")?.trimmingWhitespace ?? ""
        var rubricFromFile: String?
        func refuse(_ message: String, status: HTTPResponse.Status = .unprocessableContent) -> Response {
            let kept = rubricFromFile.map { " (The rubric file \($0) is kept in the rubric text box.)" } ?? ""
            return startPage(form, followUpSlots: max(form.followUps.count, Self.defaultFollowUpSlots), status: status,
                             error: message + kept)
        }

        var rubric: String?
        if let file = fields.file("rubric"), !file.bytes.isEmpty {
            guard let text = String(validating: file.bytes, as: UTF8.self) else {
                return refuse("Rubric file \(file.filename): not UTF-8 text.")
            }
            guard form.rubricText.trimmingWhitespace.isEmpty else {
                return refuse("Give the rubric as a file or as text, not both.")
            }
            rubric = text
            // A browser cannot be told to choose the file again: if the form comes back, the rubric is in the
            // text box, so that it is not lost.
            form.rubricText = text
            rubricFromFile = file.filename
        } else if !form.rubricText.trimmingWhitespace.isEmpty {
            rubric = form.rubricText
        }
        let panelLines = form.panel.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated()
            .map { (line: $0.offset + 1, text: String($0.element).trimmingWhitespace) }
            .filter { !$0.text.isEmpty && !$0.text.hasPrefix("#") }
        guard !panelLines.isEmpty else { return refuse("Panel: name at least one model, as provider/model.") }
        guard let samples = Int(form.samples), (1...10).contains(samples) else {
            return refuse("Samples: a whole number from 1 to 10.")
        }
        var temperature: Double?
        if !form.temperature.isEmpty {
            guard let value = Double(form.temperature), RequestLimits.temperature.contains(value) else {
                return refuse("Temperature: a number \(RequestLimits.temperatureInWords).")
            }
            temperature = value
        }
        var maxTokens: Int?
        if !form.maxTokens.isEmpty {
            guard let value = Int(form.maxTokens), (1...1_000_000).contains(value) else {
                return refuse("Max tokens: a whole number from 1 to 1000000.")
            }
            maxTokens = value
        }
        var similarity: Components.Schemas.Similarity?
        if !form.similarity.isEmpty {
            guard let choice = Components.Schemas.Similarity(rawValue: form.similarity) else {
                return refuse("Matching: `\(form.similarity)` is not one of lexical, embedding, hybrid.", status: .badRequest)
            }
            similarity = choice
        }
        let followUps = form.followUps.filter { !$0.trimmingWhitespace.isEmpty }
        let body = Components.Schemas.SurveyRequest(
            prompt: form.prompt, panel: panelLines.map { .ModelSpec($0.text) },
            followUps: followUps.isEmpty ? nil : followUps, samples: samples, temperature: temperature,
            maxTokens: maxTokens, system: form.system.trimmingWhitespace.isEmpty ? nil : form.system,
            rubric: rubric, blind: form.blind, similarity: similarity, judge: form.judge.isEmpty ? nil : form.judge,
            draftRubric: form.draftRubric.isEmpty ? nil : form.draftRubric)
        do throws(APIError) {
            if let similarity { _ = try dependencies.analyses.similarity(named: similarity.rawValue) }
            let plan = try await SurveyPlan.planned(body, directory: service.directory, config: service.config)
            let id = try await service.create(plan)
            return Response(status: .seeOther, headers: [.location: "/surveys/\(id)"])
        } catch {
            return refuse(Self.formMessage(error, panelLines: panelLines.map(\.line)), status: error.status)
        }
    }

    /// An API error in the form's words: `panel[2]` is the panel's line, `followUps[0]` the first follow-up.
    static func formMessage(_ error: APIError, panelLines: [Int]) -> String {
        let message = error.message
        guard let field = error.field else { return message }
        /// `N` and `name[N]` when `field` is `name[N]` or below it.
        func index(in name: String) -> (n: Int, path: String)? {
            guard field.hasPrefix(name + "["), let close = field.firstIndex(of: "]"),
                  let n = Int(field[field.index(field.startIndex, offsetBy: name.count + 1)..<close]) else { return nil }
            return (n, String(field[...close]))
        }
        /// The message without its leading `path: `.
        func detail(_ path: String) -> String {
            message.hasPrefix(path + ": ") ? String(message.dropFirst(path.count + 2)) : message
        }
        if let (n, path) = index(in: "panel"), n < panelLines.count {
            return "Panel, line \(panelLines[n]): " + detail(path).replacingOccurrences(of: path, with: "model")
        }
        if let (n, path) = index(in: "followUps") {
            return "Follow-up \(n + 1): " + detail(path)
        }
        if field == "prompt" { return message.hasPrefix("prompt: ") ? "Prompt: " + detail("prompt") : message }
        if field == "draftRubric" {
            if message.contains("not both") { return "Give a rubric or a model to draft one, not both." }
            return "Rubric draft model: " + detail("draftRubric")
        }
        return message
    }

    // MARK: Live page

    func surveyPage(_ id: String) async throws -> Response {
        let service = try surveyService()
        let loaded = try await service.load(id)
        let record = loaded.record
        let spec = loaded.spec
        let running = record.status == .running
        let hasReport = (try? await service.store.latestAnalysis(surveyID: id)) != nil
        let blind = spec.blind == true
        let relabel = blind ? BlindRelabel(panel: spec.panel) : nil
        let label: [String: String] = Dictionary(uniqueKeysWithValues: spec.panel.map { member in
            (member.id, relabel?.label(member.id) ?? member.label)
        })
        let base = "/surveys/\(id)"

        let interrupted = record.status == .interrupted
        let notice = interrupted ? "The server stopped while asking this survey; it resumes when the server starts again." : ""
        var html = """
            <section id="survey" data-events="\(HTML.escape(base))/events" data-report="\(HTML.escape(base))/report" \
            data-status="\(record.status.rawValue)">
            <h2>Survey <code>\(HTML.escape(id))</code></h2>
            <p>Status: <strong id="status" class="status" data-status="\(record.status.rawValue)" aria-live="polite">\
            \(record.status.rawValue)</strong> \
            · started <time datetime="\(Self.iso(record.createdAt))">\(Self.iso(record.createdAt))</time> \
            · \(spec.panel.count) panelist\(spec.panel.count == 1 ? "" : "s")\(spec.samples > 1 ? " × \(spec.samples) samples" : "")</p>
            <p id="notice" class="notice" role="status"\(interrupted ? "" : " hidden")>\(notice)</p>
            <p class="panel">Panel: \(spec.panel.enumerated().map { n, member in
                if blind { return "AI \(n + 1)" }
                // Default labels already name the model (`openai/gpt-4o (gpt-4o)`).
                return member.label.contains(member.model) ? HTML.escape(member.label)
                    : "\(HTML.escape(member.label)) (<code>\(HTML.escape(member.model))</code>)"
            }.joined(separator: ", "))</p>

            """
        // The same states as the API's and the event stream's `state` (SurveyViews.detail).
        for turn in SurveyViews.detail(loaded).turns {
            html += """
                <section class="turn" data-turn="\(turn.index)">
                <h3>\(turn.index == 0 ? "Prompt" : "Follow-up \(turn.index)")</h3>
                <blockquote class="prompt">\(HTML.escape(turn.prompt))</blockquote>

                """
            for request in turn.requests {
                let state = request.state.rawValue
                let shownState = request.latencyMs.map { "\(state) (\($0) ms)" } ?? state
                let name = (label[request.panelist] ?? request.panelist) + (spec.samples > 1 ? ", sample \(request.sample + 1)" : "")
                html += """
                    <article class="request" data-turn="\(turn.index)" \
                    data-panelist="\(HTML.escape(relabel?.id(request.panelist) ?? request.panelist))" \
                    data-sample="\(request.sample)" data-state="\(state)">
                    <h4>\(HTML.escape(name)) <span class="state">\(shownState)</span></h4>
                    <pre class="answer"\(request.text == nil ? " hidden" : "")>\(HTML.escape(request.text ?? ""))</pre>
                    <p class="failure"\(request.error == nil ? " hidden" : "")>\
                    \(HTML.escape(request.error.map { relabel?.scrub($0) ?? $0 } ?? ""))</p>
                    </article>

                    """
            }
            html += "</section>\n"
        }
        html += """
            <section id="report"\(hasReport ? "" : " hidden")>
            <h3>Report</h3>
            <p>Download: <a href="\(base)/report?format=json" download>JSON</a> · <a href="\(base)/report?format=md" download>Markdown</a> \
            · <a href="\(base)/report?format=csv" download>CSV</a> · <a href="\(base)/report" target="_blank" rel="noopener">open the page</a></p>
            \(reportFrame(src: hasReport ? "\(base)/report" : nil))</section>
            <section id="after" data-when-done\(running ? " hidden" : "")>
            <form method="post" action="\(base)/follow-ups">
            <p><label for="followUp">Ask a follow-up in every panelist's thread</label><br>
            <textarea id="followUp" name="prompt" rows="2" required></textarea></p>
            <p><button type="submit">Ask</button></p>
            </form>
            <form method="post" action="\(base)/delete" data-confirm="Delete survey \(HTML.escape(id)) and all its answers? This cannot be undone.">
            <p><button type="submit" class="danger">Delete this survey</button></p>
            </form>
            </section>
            </section>

            """
        return page(title: "Survey \(id)", body: html, script: true)
    }

    // MARK: Report, follow-up

    /// The survey's HTML report, or `?format=json|md|csv` as a download.
    func surveyReport(_ id: String, request: Request) async throws -> Response {
        let format = request.uri.queryParameters["format"].map(String.init) ?? "html"
        guard let reportFormat = ReportFormat(rawValue: format) else {
            throw APIError.invalidField("format", "must be one of html, json, md, csv")
        }
        let report = try await surveyService().report(id)
        let text = ReportRenderer.render(report, format: reportFormat)
        if reportFormat == .html {
            return Response(status: .ok, headers: Self.reportHeaders, body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        return Response(status: .ok,
                        headers: [.contentType: reportFormat.mediaType, .cacheControl: "no-store", .xContentTypeOptions: "nosniff",
                                  .contentDisposition: "attachment; filename=\"converge-\(id).\(reportFormat.rawValue)\""],
                        body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    struct FollowUpForm: Decodable, Sendable {
        var prompt: String?
    }

    func followUp(_ id: String, request: Request) async throws -> Response {
        let form = try await decodeForm(FollowUpForm.self, request)
        let prompt = form.prompt ?? ""
        try SurveyPlan.checkPrompt(prompt, at: "prompt")
        try await surveyService().followUp(id, prompt: prompt)
        return Response(status: .seeOther, headers: [.location: "/surveys/\(id)"])
    }

    // MARK: Helpers

    static func clipped(_ text: String, to length: Int) -> String {
        let line = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        return line.count > length ? String(line.prefix(length - 1)) + "…" : line
    }

    static func iso(_ date: Date) -> String {
        date.ISO8601Format()
    }
}

extension SurveyEventStream {
    /// Response headers of an event stream: not cached, not buffered by proxies (nginx's `X-Accel-Buffering`).
    static var headers: HTTPFields {
        [.contentType: "text/event-stream", .cacheControl: "no-cache", HTTPField.Name("X-Accel-Buffering")!: "no"]
    }
}
