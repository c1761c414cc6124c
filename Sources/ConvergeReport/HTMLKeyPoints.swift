import ConvergeCore

/// The key points section of the HTML report: one `<details>` per key point, opening to every quote in its
/// context, each linked to its place in the full answer.
extension HTMLPage {
    var keyPointsSection: String {
        var html = "<section id=\"key-points\">\n<h2>Key points</h2>\n"
        guard !keyPoints.isEmpty else { return html + "<p>No key points.</p>\n</section>" }
        let byCategory = keyPoints.contains { !MarkdownRenderer.trimmed($0.category ?? "").isEmpty }
        // Categories are the rubric's, or themes found in the answers when there is no rubric.
        let grouping = !byCategory ? "consensus level" : report.rubric == nil ? "theme" : "rubric category"
        html += "<p class=\"muted\">Grouped by \(grouping). "
            + "Open a key point to read each quote in its context"
            + (answers.isEmpty ? "." : "; “in the answer” jumps to the quote in the full answer.") + "</p>\n"
        for group in groups {
            html += "<h3>\(HTMLEscaping.text(group.title))</h3>\n<div class=\"kps\">\n"
            for k in group.range { html += keyPointHTML(k) }
            html += "</div>\n"
        }
        return html + "</section>"
    }

    /// Anchor of the `e`-th evidence of the `k`-th key point (display order) in the answers section.
    static func quoteAnchor(_ k: Int, _ e: Int) -> String { "q-\(k + 1)-\(e)" }

    func keyPointHTML(_ k: Int) -> String {
        let point = keyPoints[k]
        let level = point.consensus.rawValue
        var html = "<details class=\"kp\">\n<summary><span class=\"num\">K\(numbers[k])</span> "
            + "<span class=\"label\">\(HTMLEscaping.text(pointLabel(point)))</span> "
            + "<span class=\"badge lvl-\(level)\">\(level)</span> "
            + "<span class=\"support\">\(point.support.count)/\(n)</span> "
            + "<span class=\"who\">\(labelsHTML(point.support))</span></summary>\n"
            // The target of links to the key point sits inside the details, so following one opens it.
            + "<span class=\"kp-anchor\" id=\"kp-\(numbers[k])\"></span><div class=\"kp-body\">\n"
        if let id = point.rubricItem, let item = report.rubric?.items.first(where: { $0.id == id }) {
            html += "<p class=\"rubric-item\">Rubric item: \(HTMLEscaping.text(item.text)) <code>\(HTMLEscaping.text(id))</code></p>\n"
        }
        if let shares = point.stability {
            let parts = point.support.compactMap { id in
                shares[id].map { "\(labelHTML(id)) \(Int(($0 * 100).rounded()))%" }
            }
            if !parts.isEmpty {
                html += "<p class=\"stability\">Stability (share of each panelist’s samples that make the point): "
                    + parts.joined(separator: ", ") + "</p>\n"
            }
        }
        let ordered = point.evidence.enumerated().sorted {
            (position($0.element.panelist) ?? Int.max, $0.offset) < (position($1.element.panelist) ?? Int.max, $1.offset)
        }
        // One entry per panelist (and sample), holding each of its quotes.
        html += "<ol class=\"quotes\">\n"
        var previous: (String, Int?)?
        for (e, evidence) in ordered {
            if let (panelist, sample) = previous, panelist == evidence.panelist, sample == evidence.sample {
                // Same answer as the quote before: no new heading.
            } else {
                if previous != nil { html += "</li>\n" }
                var who = labelHTML(evidence.panelist)
                if let sample = evidence.sample, answers.count(evidence.panelist) > 1 {
                    who += " <span class=\"muted\">sample \(sample + 1)</span>"
                }
                html += "<li><div class=\"who\">\(who)</div>"
                previous = (evidence.panelist, evidence.sample)
            }
            let shown = shows(evidence.panelist, sample: evidence.sample, start: evidence.start, end: evidence.end,
                              quote: evidence.quote)
            html += "<blockquote class=\"ctx\">"
                + quoteHTML(evidence.panelist, sample: evidence.sample, start: evidence.start, end: evidence.end,
                            quote: evidence.quote, markClass: "lvl-\(level)")
                + (shown ? " <a class=\"jump\" href=\"#\(Self.quoteAnchor(k, e))\" title=\"Show in the full answer\">in the answer ↓</a>" : "")
                + "</blockquote>"
        }
        if previous != nil { html += "</li>\n" }
        return html + "</ol>\n</div>\n</details>\n"
    }
}
