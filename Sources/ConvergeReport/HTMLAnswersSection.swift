import ConvergeCore

/// The last section of the HTML report: every answer in full, with each key point, rubric and conflict quote
/// highlighted where its offsets say, and a link back from each key point quote to its key point.
extension HTMLPage {
    var answersSection: String {
        var html = "<section id=\"answers\">\n<h2>Answers</h2>\n"
        guard !answers.isEmpty else {
            if n == 0 { return html + "<p class=\"note\">No panelist answered.</p>\n</section>" }
            return html + "<p class=\"note\">The answer texts are not part of this report, so quotes are shown without "
                + "their context. Render the report from the answers (<code>converge analyze --format html</code>) to include them.</p>\n</section>"
        }
        html += "<p class=\"muted\">Highlighted: the words each key point quotes (coloured by consensus level, "
            + "followed by a link to the key point), rubric evidence and conflicting values.</p>\n"
        let spans = highlightSpans()
        for entry in report.panelists {
            let count = answers.count(entry.id)
            guard count > 0, let p = position(entry.id) else { continue }
            for sample in 0..<count {
                guard let text = answers.scalars(entry.id, sample: sample) else { continue }
                let model = entry.model.map { " <span class=\"model\">\(HTMLEscaping.text($0))</span>" } ?? ""
                let title = labelHTML(entry.id) + (count > 1 ? " <span class=\"muted\">sample \(sample + 1) of \(count)</span>" : "")
                html += "<article class=\"answer\" id=\"answer-\(p)-\(sample)\">\n<h3>\(title)\(model)</h3>\n"
                    + "<div class=\"answer-text\">" + HTMLHighlight.answer(text, spans: spans[SpanKey(p, sample)] ?? [])
                    + "</div>\n</article>\n"
            }
        }
        return html + "</section>"
    }

    struct SpanKey: Hashable {
        var panelist: Int
        var sample: Int
        init(_ panelist: Int, _ sample: Int) {
            self.panelist = panelist
            self.sample = sample
        }
    }

    /// Every quote the page links to, by answer: key point evidence first (its colour wins where spans
    /// overlap), then conflict values, then rubric evidence. Only quotes whose offsets hold.
    func highlightSpans() -> [SpanKey: [HTMLHighlight.Span]] {
        var spans: [SpanKey: [HTMLHighlight.Span]] = [:]
        func add(_ panelist: String, _ sample: Int?, _ start: Int, _ end: Int, _ quote: String,
                 _ span: (Int, Int) -> HTMLHighlight.Span) {
            guard let p = position(panelist), shows(panelist, sample: sample, start: start, end: end, quote: quote) else { return }
            spans[SpanKey(p, sample ?? 0), default: []].append(span(start, end))
        }
        for (k, point) in keyPoints.enumerated() {
            let name = "K\(numbers[k]) " + pointLabel(point)
            for (e, evidence) in point.evidence.enumerated() {
                add(evidence.panelist, evidence.sample, evidence.start, evidence.end, evidence.quote) {
                    HTMLHighlight.Span(start: $0, end: $1, anchor: Self.quoteAnchor(k, e),
                                       markClass: "lvl-\(point.consensus.rawValue)",
                                       title: "\(name) (\(point.consensus.rawValue))",
                                       backLink: ("kp-\(numbers[k])", "K\(numbers[k])", "Key point: \(name)"))
                }
            }
        }
        for (c, conflict) in report.conflicts.enumerated() {
            for (v, value) in conflict.values.enumerated() {
                add(value.panelist, nil, value.start, value.end, value.quote) {
                    HTMLHighlight.Span(start: $0, end: $1, anchor: Self.conflictAnchor(c, v), markClass: "conflict",
                                       title: "Conflict: \(conflict.topic) = \(value.value)", backLink: nil)
                }
            }
        }
        for (i, item) in (report.rubric?.items ?? []).enumerated() {
            for (e, evidence) in item.evidence.enumerated() {
                add(evidence.panelist, evidence.sample, evidence.start, evidence.end, evidence.quote) {
                    HTMLHighlight.Span(start: $0, end: $1, anchor: Self.rubricAnchor(i, e), markClass: "rubric",
                                       title: "Rubric: \(item.text)", backLink: nil)
                }
            }
        }
        return spans
    }
}
