import ConvergeAnalysis
import ConvergeCore
import ConvergeJudge
import ConvergeReport
import Foundation
import HTTPTypes
import Hummingbird

/// `/analyze`: paste answers, get the HTML report (the page itself, as `converge analyze --format html`
/// writes it; no script). No model is called, except a judge named in the form. The matching is chosen in the
/// form (lexical, embedding or hybrid; default: the server's, hybrid when it has loaded the embedding model).
extension Pages {
    static var defaultSlots: Int { 3 }
    static var maxSlots: Int { 12 }

    struct AnalyzeForm: Decodable, Sendable {
        var prompt: String?
        var rubric: String?
        var blind: String?
        var similarity: String?
        var judge: String?
        var label: [String]?
        var answer: [String]?
    }

    func analyzePage(_ request: Request) async throws -> Response {
        let slots = request.uri.queryParameters["answers"].flatMap { Int($0) }.map { min(max($0, 1), Self.maxSlots) }
            ?? Self.defaultSlots
        return page(title: "Analyze answers", body: "<h2>Analyze answers</h2>\n" + analyzeForm(AnalyzeForm(), slots: slots))
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
        let similarityChoice: Components.Schemas.Similarity?
        switch form.similarity.map({ $0.trimmingWhitespace }) {
        case nil, "": similarityChoice = nil
        case let name?:
            guard let choice = Components.Schemas.Similarity(rawValue: name) else {
                return page(title: "Analyze answers", status: .badRequest,
                            body: errorBox("Matching: `\(name)` is not one of lexical, embedding, hybrid.")
                                + analyzeForm(form, slots: slots))
            }
            similarityChoice = choice
        }
        let rubricText = form.rubric ?? ""
        let promptText = form.prompt ?? ""
        let body = Components.Schemas.AnalysisRequest(
            prompt: promptText.trimmingWhitespace.isEmpty ? nil : promptText,
            answers: answers,
            rubric: rubricText.trimmingWhitespace.isEmpty ? nil : .RubricYAML(rubricText),
            blind: form.blind != nil,
            similarity: similarityChoice,
            judge: (form.judge?.trimmingWhitespace).flatMap { $0.isEmpty ? nil : $0 })
        let job: AnalysisJob
        let judge: Judge?
        let similarity: any SimilarityModel
        do throws(APIError) {
            job = try AnalysisJob(body)
            similarity = try dependencies.analyses.similarity(for: job)
            judge = try dependencies.analyses.judge(for: job)
        } catch {
            return page(title: "Analyze answers", status: error.status,
                        body: errorBox(error.message) + analyzeForm(form, slots: slots))
        }
        let report: Report
        do {
            let clock = ContinuousClock()
            let start = clock.now
            report = await dependencies.analyses.analyze(job, similarity: similarity, judge: judge, attachingAnswers: true)
            dependencies.metrics.recordAnalysis(format: "page", duration: clock.now - start)
        }
        // The report page itself (its own links work, it prints as it is); Back returns to the filled form.
        return Response(status: .ok, headers: Self.reportHeaders,
                        body: .init(byteBuffer: ByteBuffer(string: ReportRenderer.render(report, format: .html))))
    }

    /// The HTML report of this site at `src` in a frame, sandboxed without scripts; same origin so that the
    /// page's script can size it to its content.
    func reportFrame(src: String?) -> String {
        let source = src.map { " src=\"\(HTML.escape($0))\"" } ?? ""
        return """
        <iframe id="report-frame" class="report" title="Report" sandbox="allow-same-origin"\(source)></iframe>

        """
    }

    /// The matching (`/analyze` and the survey start form): lexical, embedding or hybrid, `chosen` (else the
    /// server's default) selected; embedding and hybrid are disabled on a server without the embedding model.
    func similaritySelect(_ chosen: String?) -> String {
        let (defaultName, embedding) = dependencies.analyses.matchings
        let selected = chosen.flatMap { Components.Schemas.Similarity(rawValue: $0)?.rawValue } ?? defaultName
        let options: [(name: String, text: String)] = [
            ("lexical", "lexical (shared words)"), ("embedding", "embedding (sentence meaning)"),
            ("hybrid", "hybrid (both, weighed by the learned matcher)"),
        ]
        var html = "<p><label for=\"similarity\">Matching</label><br>\n<select id=\"similarity\" name=\"similarity\">\n"
        for option in options {
            let unavailable = option.name != "lexical" && !embedding
            html += "<option value=\"\(option.name)\"" + (option.name == selected ? " selected" : "")
                + (unavailable ? " disabled" : "") + ">\(HTML.escape(option.text))"
                + (unavailable ? " (no embedding model on this server)" : "") + "</option>\n"
        }
        return html + "</select></p>"
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
            <textarea id="rubric" name="rubric" rows="6" \
            placeholder="title: ...&#10;categories:&#10;  - name: ...&#10;    items:&#10;      - id: ...&#10;        text: ...">\
            \(HTML.escape(form.rubric ?? ""))</textarea></p>
            <p><label><input type="checkbox" name="blind" value="on"\(form.blind != nil ? " checked" : "")> Blind labels (AI 1, AI 2, ...)</label></p>
            \(similaritySelect(form.similarity))
            <p><label for="judge">Judge model (optional, provider/model; its claims are checked against the answers)</label><br>
            <input id="judge" name="judge" maxlength="200" value="\(HTML.escape(form.judge ?? ""))"></p>
            <p><button type="submit">Analyze</button></p>
            </form>

            """
        return html
    }
}
