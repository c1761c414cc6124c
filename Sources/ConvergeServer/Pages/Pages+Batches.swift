import ConvergeCore
import ConvergeForms
import ConvergeReport
import ConvergeRunner
import ConvergeStore
import Foundation
import HTTPTypes
import Hummingbird

/// The batch pages: `/batches` (the stored batches, newest first, with a form to start one from a JSONL or CSV
/// file of prompts), `/batches/{id}` (how far each prompt's survey is, and, for surveys queued for
/// `converge worker`, how many of their threads are done; reloaded every 5 s while any is running) and
/// `/batches/{id}/report` (the batch report as HTML, each prompt linking to its survey's report).
extension Pages {
    func registerBatchPages(on routes: RouteRegistry<Context>) {
        routes.on("/batches", method: .get) { request, _ in
            try await showingErrors { try await batchList(request, form: BatchForm()) }
        }
        routes.on("/batches", method: .post) { request, _ in try await showingErrors { try await startBatch(request) } }
        routes.on("/batches/:id", method: .get) { _, context in
            try await showingErrors { try await batchPage(try context.parameters.require("id")) }
        }
        routes.on("/batches/:id/report", method: .get) { _, context in
            try await showingErrors { try await batchReport(try context.parameters.require("id")) }
        }
    }

    /// A stored batch by its exact id.
    /// - Throws: `APIError` 404 for an unknown id, 503 when the store fails.
    func loadBatch(_ id: String) async throws -> (service: SurveyService, batch: StoredBatch) {
        let service = try surveyService()
        return (service, try await service.loadBatch(id))
    }

    // MARK: List and start

    /// The start form's fields (`multipart/form-data`: the prompts come as a file, or pasted).
    struct BatchForm: Sendable {
        var promptsText = ""
        var panel = ""
        var samples = "1"
        var rubricText = ""
        var blind = false
        var judge = ""
    }

    static var batchesPerPage: Int { 20 }

    func batchList(_ request: Request, form: BatchForm, status: HTTPResponse.Status = .ok,
                   error: String? = nil) async throws -> Response {
        let service = try surveyService()
        let offset = Self.pageOffset(request)
        let limit = Self.batchesPerPage
        let batches: [StoredBatch]
        do {
            batches = try await service.store.batches(limit: limit + 1, offset: offset)
        } catch {
            throw APIError.store(error, logger: service.logger)
        }
        var html = "<h2>Batches</h2>\n<p>Many prompts put to one panel, one survey each, with a report across them. "
            + "<a href=\"#start\">Start a batch</a> · <a href=\"/surveys\">Surveys</a></p>\n"
        if batches.isEmpty {
            html += offset == 0 ? "<p>No batches yet.</p>\n" : "<p>No more batches.</p>\n"
        } else {
            html += """
                <div class="table-wrap"><table class="batches">
                <thead><tr><th scope="col">Batch</th><th scope="col">Created</th><th scope="col">Prompts</th>\
                <th scope="col">Progress</th><th scope="col">Status</th><th scope="col">Source</th></tr></thead>
                <tbody>

                """
            for batch in batches.prefix(limit) {
                let statuses = try await service.statuses(batch)
                let summary = BatchViews.summary(batch, statuses: statuses)
                let progress = summary.progress
                let finished = progress.complete + progress.partial + progress.failed
                let id = HTML.escape(batch.id)
                html += """
                    <tr><td><a href="/batches/\(id)"><code>\(id)</code></a></td>\
                    <td><time datetime="\(Self.iso(batch.createdAt))">\(Self.iso(batch.createdAt))</time></td>\
                    <td>\(batch.items.count)</td><td>\(finished)/\(batch.items.count) done</td>\
                    <td><span class="status" data-status="\(summary.status.rawValue)">\(summary.status.rawValue)</span></td>\
                    <td><code>\(HTML.escape(Self.clipped(batch.source, to: 80)))</code></td></tr>

                    """
            }
            html += "</tbody>\n</table></div>\n"
        }
        html += Self.pagingLinks("/batches", offset: offset, limit: limit, more: batches.count > limit)
        html += startBatchForm(form, error: error)
        return page(title: "Batches", status: status, body: html)
    }

    func startBatchForm(_ form: BatchForm, error: String?) -> String {
        "<h2 id=\"start\">Start a batch</h2>\n" + (error.map(errorBox) ?? "") + """
            <p>The prompts as JSONL (one <code>{"id": "...", "prompt": "..."}</code> a line) or CSV (a header row naming \
            <code>id</code> and <code>prompt</code>); ids are 1-100 of <code>A-Z a-z 0-9 . _ -</code>, unique in the batch. \
            Or from a program: <code>POST /v1/batches</code> with <code>{"prompts": [{"id", "prompt"}], "panel": [...]}</code>, \
            or on the command line: <code>converge batch prompts.jsonl -m provider/model ...</code>.</p>
            <form method="post" action="/batches" enctype="multipart/form-data">
            <p><label for="prompts">Prompts file (.jsonl or .csv)</label>
            <input type="file" id="prompts" name="prompts" accept=".jsonl,.ndjson,.csv,text/csv,application/jsonl"></p>
            <p><label for="promptsText">or paste JSONL lines</label><br>
            <textarea id="promptsText" name="promptsText" rows="5" \
            placeholder="{&quot;id&quot;: &quot;cache&quot;, &quot;prompt&quot;: &quot;Should we cache reads?&quot;}">\
            \(HTML.escape(form.promptsText))</textarea></p>
            <p><label for="batchPanel">Panel: one model per line, as <code>provider/model</code></label><br>
            <textarea id="batchPanel" name="panel" rows="3" required>\(HTML.escape(form.panel))</textarea></p>
            <p><label for="batchSamples">Samples per panelist</label>
            <input type="number" id="batchSamples" name="samples" min="1" max="10" value="\(HTML.escape(form.samples))"></p>
            <p><label for="batchRubric">Rubric YAML for every prompt (optional)</label><br>
            <textarea id="batchRubric" name="rubricText" rows="3">\(HTML.escape(form.rubricText))</textarea></p>
            <p><label><input type="checkbox" name="blind" value="on"\(form.blind ? " checked" : "")> Blind labels (AI 1, AI 2, ...)</label></p>
            <p><label for="batchJudge">Judge model (optional, provider/model)</label><br>
            <input id="batchJudge" name="judge" maxlength="200" value="\(HTML.escape(form.judge))"></p>
            <p><button type="submit">Start the batch</button></p>
            </form>

            """
    }

    /// Reads the start form: the prompts file (or pasted JSONL) read as `converge batch` reads a batch file
    /// (``BatchInput``), then every prompt checked and planned as `POST /v1/batches` does; stores and starts the
    /// batch and redirects (303) to its page. A wrong field shows the list again with the form filled in and the
    /// error naming it (the file's line, the panel's line).
    func startBatch(_ request: Request) async throws -> Response {
        let service = try surveyService()
        let fields = try await FormData.read(request, maxBytes: maxBodyBytes)
        var form = BatchForm()
        form.promptsText = fields.text("promptsText") ?? ""
        form.panel = fields.text("panel") ?? ""
        form.samples = fields.text("samples")?.trimmingWhitespace ?? "1"
        form.rubricText = fields.text("rubricText") ?? ""
        form.blind = fields.text("blind") != nil
        form.judge = fields.text("judge")?.trimmingWhitespace ?? ""
        func refuse(_ message: String, status: HTTPResponse.Status = .unprocessableContent) async throws -> Response {
            try await batchList(request, form: form, status: status, error: message)
        }
        var text = form.promptsText
        var name = "the pasted prompts"
        var format = BatchInput.Format.jsonl
        if let file = fields.file("prompts"), !file.bytes.isEmpty {
            guard form.promptsText.trimmingWhitespace.isEmpty else {
                return try await refuse("Give the prompts as a file or pasted, not both.")
            }
            guard let decoded = String(validating: file.bytes, as: UTF8.self) else {
                return try await refuse("Prompts file \(file.filename): not UTF-8 text.")
            }
            text = decoded
            name = file.filename.isEmpty ? "the prompts file" : file.filename
            if name.lowercased().hasSuffix(".csv") { format = .csv }
        }
        guard !text.trimmingWhitespace.isEmpty else { return try await refuse("Prompts: give a JSONL or CSV file, or paste JSONL lines.") }
        let items: [BatchItem]
        do {
            items = try BatchInput.parse(text, format: format, file: name)
        } catch {
            return try await refuse("\(error)")
        }
        let panelLines = form.panel.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated()
            .map { (line: $0.offset + 1, text: String($0.element).trimmingWhitespace) }
            .filter { !$0.text.isEmpty && !$0.text.hasPrefix("#") }
        guard !panelLines.isEmpty else { return try await refuse("Panel: name at least one model, as provider/model.") }
        guard let samples = Int(form.samples), (1...10).contains(samples) else {
            return try await refuse("Samples: a whole number from 1 to 10.")
        }
        let body = Components.Schemas.BatchRequest(
            prompts: items.map { .init(id: $0.id, prompt: $0.prompt) }, panel: panelLines.map { .ModelSpec($0.text) },
            samples: samples, rubric: form.rubricText.trimmingWhitespace.isEmpty ? nil : form.rubricText,
            blind: form.blind, judge: form.judge.isEmpty ? nil : form.judge)
        do throws(APIError) {
            let plans = try BatchPlanning.plans(body, directory: service.directory, config: service.config)
            let batch = try await service.createBatch(plans)
            return Response(status: .seeOther, headers: [.location: "/batches/\(batch.id)"])
        } catch {
            var message = Self.formMessage(error, panelLines: panelLines.map(\.line))
            // A prompt's field named by its line in the file: `prompts[2].prompt` is the third item.
            if let field = error.field, field.hasPrefix("prompts["), let end = field.firstIndex(of: "]"),
               let n = Int(field[field.index(field.startIndex, offsetBy: 8)..<end]), n < items.count {
                message = "\(items[n].source) (\(items[n].id)): " + message
            }
            return try await refuse(message, status: error.status)
        }
    }

    func batchPage(_ id: String) async throws -> Response {
        let (service, batch) = try await loadBatch(id)
        var statuses: [String: SurveyStatus] = [:]
        for item in batch.items { statuses[item.surveyID] = (try? await service.store.survey(id: item.surveyID))?.status }
        var threads: [String: (done: Int, total: Int)] = [:]
        if let queue = try? workQueue(service.store),
           let jobs = try? await queue.jobs(surveyIDs: batch.items.map(\.surveyID)) {
            for job in jobs {
                threads[job.job.surveyID, default: (0, 0)].total += 1
                if job.state == .done { threads[job.job.surveyID, default: (0, 0)].done += 1 }
            }
        }
        let complete = batch.items.filter { statuses[$0.surveyID] == .complete }.count
        let running = batch.items.contains { statuses[$0.surveyID] == .running }
        var html = """
            <section id="batch">
            <h2>Batch <code>\(HTML.escape(id))</code></h2>
            <p>\(batch.items.count) prompt\(batch.items.count == 1 ? "" : "s"): \(complete) complete \
            · from <code>\(HTML.escape(batch.source))</code> \
            · created <time datetime="\(Self.iso(batch.createdAt))">\(Self.iso(batch.createdAt))</time></p>
            <p><a href="/batches/\(HTML.escape(id))/report">The batch report</a> (the surveys answered so far) \
            · <a href="/batches">All batches</a></p>
            <table class="items"><thead><tr><th>prompt</th><th>survey</th><th>status</th><th>threads done</th></tr></thead>
            <tbody>

            """
        for item in batch.items {
            let status = statuses[item.surveyID]?.rawValue ?? "deleted"
            let done = threads[item.surveyID].map { "\($0.done)/\($0.total)" } ?? ""
            html += "<tr><td>\(HTML.escape(item.itemID))</td><td><a href=\"/surveys/\(HTML.escape(item.surveyID))\">"
                + "<code>\(HTML.escape(item.surveyID))</code></a></td><td class=\"status\" data-status=\"\(status)\">\(status)</td>"
                + "<td>\(done)</td></tr>\n"
        }
        html += "</tbody></table>\n</section>\n"
        var response = page(title: "Batch \(id)", body: html, script: false)
        if running, let refresh = HTTPField.Name("Refresh") { response.headers[refresh] = "5" }
        return response
    }

    func batchReport(_ id: String) async throws -> Response {
        let (service, batch) = try await loadBatch(id)
        let report = try await service.batchReport(batch)
        let html = BatchReportRenderer.render(report, format: .html) { "/surveys/\($0.survey)/report" }
        return Response(status: .ok, headers: Self.reportHeaders, body: .init(byteBuffer: ByteBuffer(string: html)))
    }
}
