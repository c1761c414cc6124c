import ConvergeCore

/// The top of the HTML report: prompt, panel, convergence index.
extension HTMLPage {
    var promptSection: String {
        let prompt = report.prompt.map(MarkdownRenderer.trimmed) ?? ""
        var html = "<section id=\"prompt\">\n<h2>Prompt</h2>\n"
        html += prompt.isEmpty
            ? "<p class=\"muted\">The report has no prompt.</p>\n"
            : "<blockquote class=\"prompt\">\(HTMLEscaping.text(prompt))</blockquote>\n"
        if let turns = report.turns, turns.count > 1 {
            html += "<details class=\"turns\"><summary>Earlier turns of this survey (\(turns.count - 1))</summary>\n<ol>\n"
            for turn in turns.dropLast() {
                html += "<li><blockquote class=\"prompt\">\(HTMLEscaping.text(MarkdownRenderer.trimmed(turn.prompt)))</blockquote></li>\n"
            }
            html += "</ol>\n<p class=\"muted\">The key points analyse the last turn, whose prompt is above.</p></details>\n"
        }
        return html + "</section>"
    }

    var panelSection: String {
        var html = "<section id=\"panel\">\n<h2>Panel</h2>\n"
        html += "<p>\(n) of \(report.panelists.count) panelists answered.</p>\n"
        if n == 0 {
            html += "<p class=\"note\">No panelist answered, so there is nothing to compare: consensus needs at least two answers.</p>\n"
        } else if n == 1 {
            html += "<p class=\"note\">Consensus needs at least two answers; only one panelist (\(labelHTML(answered[0].id))) "
                + "answered, so every key point is unique and the convergence index means nothing.</p>\n"
        }
        guard !report.panelists.isEmpty else { return html + "</section>" }
        html += "<table class=\"panel\">\n<thead><tr><th scope=\"col\">Panelist</th><th scope=\"col\">Model</th>"
            + "<th scope=\"col\">Status</th><th scope=\"col\" class=\"num\">Key points</th></tr></thead>\n<tbody>\n"
        for entry in report.panelists {
            let model = entry.model.map { "<code>\(HTMLEscaping.text($0))</code>" } ?? "<span class=\"muted\">—</span>"
            let made = keyPoints.filter { $0.support.contains(entry.id) }.count
            // The id under the label when it says something the label does not.
            let id = entry.id == entry.label ? "" : " <code class=\"id\">\(HTMLEscaping.text(entry.id))</code>"
            var status: String
            let error = entry.error.map(MarkdownRenderer.trimmed).flatMap { $0.isEmpty ? nil : $0 }
            if entry.status == .failed {
                status = "<span class=\"status failed\">failed</span>"
            } else if error != nil {
                status = "<span class=\"status partly\">partly answered</span>"
            } else {
                status = "<span class=\"status answered\">answered</span>"
            }
            if entry.status == .answered, let anchor = answerAnchor(entry.id, sample: 0) {
                status += " <a class=\"jump\" href=\"#\(anchor)\">answer ↓</a>"
            }
            html += "<tr class=\"\(entry.status.rawValue)\"><th scope=\"row\">\(labelHTML(entry.id))\(id)</th>"
                + "<td>\(model)</td><td>\(status)</td>"
                + "<td class=\"num\">\(entry.status == .answered ? "\(made) of \(keyPoints.count)" : "—")</td></tr>\n"
            if entry.status == .failed || error != nil {
                html += "<tr class=\"\(entry.status.rawValue) error-row\"><td colspan=\"4\"><div class=\"error\">"
                    + HTMLEscaping.text(error ?? "no error message") + "</div></td></tr>\n"
            }
        }
        return html + "</tbody>\n</table>\n</section>"
    }

    var convergenceSection: String {
        let index = min(1, max(0, report.convergence.index.isFinite ? report.convergence.index : 0))
        var html = "<section id=\"convergence\">\n<h2>Convergence</h2>\n<div class=\"gauge-row\">\n"
        // With fewer than two answers there is no pair to compare: no number is shown (see the panel note).
        html += n < 2
            ? "<p class=\"index\"><span class=\"value\">—</span> <span class=\"caption\">convergence index "
                + "(needs two answers)</span></p>\n"
            : "<p class=\"index\"><span class=\"value\">\(Self.format(index))</span> "
                + "<span class=\"caption\">convergence index</span></p>\n"
        if n >= 2 { html += Charts.gauge(index) }
        html += "</div>\n<p class=\"muted\">The mean, over pairs of answering panelists, of the Jaccard similarity of the "
            + "key points they make: 1 when every panelist makes the same points, 0 when no two share one.</p>\n"
        let counts = ConsensusLevel.allCases.map { level in (level, keyPoints.filter { $0.consensus == level }.count) }
        html += "<p>\(Self.plural(keyPoints.count, "key point")): "
            + counts.map { "<span class=\"badge lvl-\($0.0.rawValue)\">\($0.1) \($0.0.rawValue)</span>" }.joined(separator: " ")
            + "</p>\n"
        if !keyPoints.isEmpty { html += Charts.consensusBar(counts) }
        if n >= 2 { html += pairwiseTable }
        return html + "</section>"
    }

    /// Jaccard similarity for every pair of answering panelists, shaded by value.
    var pairwiseTable: String {
        let ids = answered.map(\.id)
        var html = "<details class=\"pairwise\"><summary>Pairwise similarity</summary>\n<table class=\"matrix\">\n<thead><tr><td></td>"
        html += ids.map { "<th scope=\"col\">\(labelHTML($0))</th>" }.joined() + "</tr></thead>\n<tbody>\n"
        for a in ids {
            html += "<tr><th scope=\"row\">\(labelHTML(a))</th>"
            for b in ids {
                guard let value = report.convergence.pairwise[a]?[b], value.isFinite else {
                    html += "<td class=\"num muted\">—</td>"
                    continue
                }
                let shade = Int((min(1, max(0, value)) * 60).rounded())
                html += "<td class=\"num\" style=\"background:hsl(210 70% \(97 - shade / 2)%)\">\(Self.format(value))</td>"
            }
            html += "</tr>\n"
        }
        return html + "</tbody>\n</table>\n</details>\n"
    }
}
