import ConvergeCore
import Foundation

/// Renders a report as one self-contained HTML5 page: inline CSS and SVG, no script, no external resource
/// (a Content-Security-Policy forbids scripts and loads), readable offline and in print.
///
/// Sections, in this order: the prompt; the panel (labels, ids, models, failed panelists with their error);
/// the convergence index (with consensus counts and pairwise similarity); "Nobody mentioned" (rubric
/// omissions, set apart); rubric coverage; a heatmap of key points by panelist (SVG, coloured by consensus
/// level, a mark where a panelist makes the point); key points grouped by rubric category (or consensus
/// level without one), each a `<details>` opening to its quotes, highlighted with `<mark>` inside their
/// line of the answer; terms with support; conflicts side by side; the answers in full, every key point,
/// conflict and rubric quote highlighted, with links between quotes and key points.
///
/// Answer texts come from the last of `report.turns` (see `AnswerTexts`; attach them to an `analyze` report
/// with `Report.attachingAnswers(_:)`). Without them the page shows the bare quotes and says the answers are
/// not included. Quotes whose offsets do not hold (`answer[start..<end] != quote`, in Unicode scalars) are
/// shown bare, never highlighted at a wrong place.
///
/// Escaping: see `HTMLEscaping`. Element ids and links are made from positions (`kp-3`, `answer-1-0`),
/// never from report text, so no report text becomes a URL, id or attribute name. Rendering is a pure
/// function of the report: equal reports give byte-identical pages. The page ends with a line break.
public enum HTMLRenderer {
    public static func render(_ report: Report) -> String {
        HTMLPage(report).html
    }
}

/// The parts of one page, and what its sections share: labels, numbering and anchors.
struct HTMLPage {
    let report: Report
    let answers: AnswerTexts
    let answered: [Report.PanelistEntry]
    /// Key points in display order (grouped).
    let keyPoints: [Report.KeyPoint]
    /// The number each key point (display order) shows as `K<n>` and anchors as `#kp-<n>`: the `n` of its report
    /// id `kp-<n>`, so that K9 in the page is `kp-9` in the JSON and CSV reports; the position in the report's list
    /// (from 1) when some id is not of that form or two share a number.
    let numbers: [Int]
    let groups: [(title: String, range: Range<Int>)]
    private var labels: [String: String] = [:]
    private var positions: [String: Int] = [:]

    init(_ report: Report) {
        self.report = report
        answers = AnswerTexts(report)
        answered = report.answered
        for (i, entry) in report.panelists.enumerated() where positions[entry.id] == nil {
            labels[entry.id] = entry.label
            positions[entry.id] = i
        }
        var ordered: [Report.KeyPoint] = []
        var groups: [(String, Range<Int>)] = []
        for group in MarkdownRenderer.keyPointGroups(report.keyPoints) {
            groups.append((group.title, ordered.count..<ordered.count + group.keyPoints.count))
            ordered += group.keyPoints
        }
        keyPoints = ordered
        self.groups = groups
        numbers = HTMLPage.numbers(ordered, reportOrder: report.keyPoints)
    }

    static func numbers(_ ordered: [Report.KeyPoint], reportOrder: [Report.KeyPoint]) -> [Int] {
        let parsed = ordered.map { point -> Int? in
            guard point.id.hasPrefix("kp-"), let n = Int(point.id.dropFirst(3)), n > 0,
                  point.id == "kp-\(n)" else { return nil }
            return n
        }
        if parsed.allSatisfy({ $0 != nil }), Set(parsed.compactMap { $0 }).count == parsed.count {
            return parsed.map { $0! }
        }
        var position: [String: Int] = [:]
        for (i, point) in reportOrder.enumerated() where position[point.id] == nil { position[point.id] = i + 1 }
        // Ids repeated in a hand-made report: the later ones number after the list, so every number is unique.
        var next = reportOrder.count
        var used = Set<Int>()
        return ordered.map { point in
            if let n = position[point.id], used.insert(n).inserted { return n }
            next += 1
            used.insert(next)
            return next
        }
    }

    var n: Int { answered.count }

    /// A panelist's display label; an unknown id shows as itself.
    func label(_ id: String) -> String { labels[id] ?? id }

    /// Position in the panel (for anchors), `nil` for an id not in the panel.
    func position(_ id: String) -> Int? { positions[id] }

    /// Escaped label, isolated from the surrounding text direction.
    func labelHTML(_ id: String) -> String { "<bdi>" + HTMLEscaping.text(label(id)) + "</bdi>" }

    func labelsHTML(_ ids: [String]) -> String { ids.map(labelHTML).joined(separator: ", ") }

    /// The id of the answer article of `panelist`'s `sample`, when the page shows that answer.
    func answerAnchor(_ panelist: String, sample: Int?) -> String? {
        guard let p = position(panelist), answers.scalars(panelist, sample: sample) != nil else { return nil }
        return "answer-\(p)-\(sample ?? 0)"
    }

    /// Whether the page highlights this quote in its answer (known panelist, exact offsets).
    func shows(_ panelist: String, sample: Int?, start: Int, end: Int, quote: String) -> Bool {
        position(panelist) != nil && answers.holds(panelist, sample: sample, start: start, end: end, quote: quote)
    }

    /// A quote with its context (the line of the answer around it, quote in `<mark>`), or the bare quote when
    /// the answer is not available or the offsets do not hold.
    func quoteHTML(_ panelist: String, sample: Int?, start: Int, end: Int, quote: String, markClass: String) -> String {
        if shows(panelist, sample: sample, start: start, end: end, quote: quote),
           let text = answers.scalars(panelist, sample: sample) {
            return HTMLHighlight.context(text, start: start, end: end, markClass: markClass)
        }
        return "<mark class=\"\(markClass)\">" + HTMLEscaping.text(quote) + "</mark>"
    }

    static func format(_ value: Double) -> String { String(format: "%.2f", value) }

    static func plural(_ count: Int, _ word: String) -> String { "\(count) \(word)\(count == 1 ? "" : "s")" }

    // MARK: - Page

    var html: String {
        var title = "Converge report"
        if let prompt = report.prompt {
            let line = MarkdownRenderer.fold(prompt)
            if !line.isEmpty { title += ": " + MarkdownRenderer.shorten(line, limit: 80) }
        }
        var body: [String] = [header, promptSection, panelSection, convergenceSection]
        body.append(judgeSection)
        body.append(omissionsSection)
        body.append(rubricSection)
        body.append(heatmapSection)
        body.append(keyPointsSection)
        body.append(termsSection)
        body.append(conflictsSection)
        body.append(judgeContradictionsSection)
        body.append(answersSection)
        body.append(footer)
        return """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
            <meta name="referrer" content="no-referrer">
            <meta name="generator" content="Converge">
            <title>\(HTMLEscaping.text(title))</title>
            <link rel="icon" href="data:,">
            <style>
            \(HTMLStyle.css)</style>
            </head>
            <body>
            <main>
            \(body.filter { !$0.isEmpty }.joined(separator: "\n"))
            </main>
            </body>
            </html>

            """
    }

    var header: String {
        var links: [(String, String)] = [("prompt", "Prompt"), ("panel", "Panel"), ("convergence", "Convergence")]
        if report.judge != nil { links.append(("judge", "Synthesis")) }
        if !report.omissions.isEmpty { links.append(("omissions", "Nobody mentioned")) }
        if report.rubric != nil { links.append(("rubric", "Rubric coverage")) }
        if !keyPoints.isEmpty { links += [("heatmap", "Heatmap")] }
        links += [("key-points", "Key points"), ("terms", "Terms")]
        if !report.conflicts.isEmpty { links.append(("conflicts", "Conflicts")) }
        if report.judge?.status == .verified && !(report.judge?.contradictions.isEmpty ?? true) {
            links.append(("contradictions", "Contradictions"))
        }
        links.append(("answers", "Answers"))
        let nav = links.map { "<a href=\"#\($0.0)\">\($0.1)</a>" }.joined(separator: "\n")
        return """
            <header class="page">
            <p class="brand">Converge report</p>
            <nav aria-label="Sections">
            \(nav)
            </nav>
            </header>
            """
    }

    var footer: String {
        guard let analysis = report.analysis else { return "" }
        var parts = ["Similarity: " + HTMLEscaping.text(analysis.similarity),
                     Self.plural(analysis.statements, "statement"),
                     "engine " + HTMLEscaping.text(analysis.engine)]
        if analysis.blind { parts.append("blind labels") }
        parts.append("schema version \(report.schemaVersion)")
        return "<footer class=\"page\"><p>" + parts.joined(separator: " · ") + "</p></footer>"
    }
}
