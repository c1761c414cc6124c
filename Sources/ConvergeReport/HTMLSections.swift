import ConvergeCore

/// The omissions, rubric coverage, terms and conflicts sections of the HTML report.
extension HTMLPage {
    /// Rubric items no panelist makes, set apart at the top: "Nobody mentioned: …".
    var omissionsSection: String {
        guard !report.omissions.isEmpty else {
            guard report.rubric != nil else { return "" }
            return "<section id=\"omissions\" class=\"omissions covered\">\n<h2>Nobody mentioned</h2>\n"
                + "<p>Every rubric item is made by at least one panelist.</p>\n</section>"
        }
        var html = "<section id=\"omissions\" class=\"omissions\" aria-labelledby=\"omissions-title\">\n"
            + "<h2 id=\"omissions-title\">Nobody mentioned</h2>\n"
            + "<p>No panelist makes \(Self.omissionsNoun(report)):</p>\n<ul>\n"
        for omission in report.omissions {
            html += "<li><span class=\"lead\">Nobody mentioned:</span> <strong>\(HTMLEscaping.text(omission.category))</strong> — "
                + "\(HTMLEscaping.text(omission.text)) <code>\(HTMLEscaping.text(omission.item))</code></li>\n"
        }
        return html + "</ul>\n</section>"
    }

    /// "this rubric item", "these 3 rubric items", "this point" (judge's blind spots only), "these 3 points".
    static func omissionsNoun(_ report: Report) -> String {
        let blindSpots = Set(report.judge?.blindSpots.map(\.item) ?? [])
        let rubricOnly = report.omissions.allSatisfy { !blindSpots.contains($0.item) }
        let noun = rubricOnly ? "rubric item" : "point"
        return report.omissions.count == 1 ? "this \(noun)" : "these \(report.omissions.count) \(noun)s"
    }

    /// Anchor of the `e`-th evidence of the `i`-th rubric item in the answers section.
    static func rubricAnchor(_ i: Int, _ e: Int) -> String { "r-\(i + 1)-\(e)" }

    var rubricSection: String {
        guard let rubric = report.rubric else { return "" }
        var html = "<section id=\"rubric\">\n<h2>Rubric coverage</h2>\n<p class=\"rubric-title\">\(HTMLEscaping.text(rubric.title))</p>\n"
        guard !rubric.items.isEmpty else { return html + "<p>The rubric has no items.</p>\n</section>" }
        let covered = rubric.items.filter { !$0.support.isEmpty }.count
        html += "<p>\(covered) of \(rubric.items.count) items are made by at least one panelist.</p>\n"
        html += "<table class=\"coverage\">\n<thead><tr><th scope=\"col\">Item</th>"
            + answered.map { "<th scope=\"col\" class=\"mark-col\">\(labelHTML($0.id))</th>" }.joined()
            + "<th scope=\"col\">Support</th></tr></thead>\n"
        var category: String?
        for (i, item) in rubric.items.enumerated() {
            if item.category != category {
                if category != nil { html += "</tbody>\n" }
                category = item.category
                html += "<tbody>\n<tr class=\"category\"><th colspan=\"\(answered.count + 2)\" scope=\"rowgroup\">"
                    + "\(HTMLEscaping.text(item.category))</th></tr>\n"
            }
            let supporters = Set(item.support)
            html += "<tr\(item.support.isEmpty ? " class=\"omitted\"" : "")><th scope=\"row\">\(HTMLEscaping.text(item.text))"
                + " <code>\(HTMLEscaping.text(item.id))</code></th>"
            for entry in answered {
                guard supporters.contains(entry.id) else {
                    html += "<td class=\"mark-col\"><span class=\"no\" "
                        + "title=\"\(HTMLEscaping.attribute(label(entry.id))) does not make it\">·</span></td>"
                    continue
                }
                let e = item.evidence.firstIndex { $0.panelist == entry.id }
                let evidence = e.map { item.evidence[$0] }
                let tip = evidence.map { "“\($0.quote)”" } ?? "makes it"
                var mark = "<span class=\"yes\" title=\"\(HTMLEscaping.attribute(label(entry.id) + ": " + tip))\">✓</span>"
                if let e, let ev = evidence,
                   shows(ev.panelist, sample: ev.sample, start: ev.start, end: ev.end, quote: ev.quote) {
                    mark = "<a href=\"#\(Self.rubricAnchor(i, e))\">" + mark + "</a>"
                }
                html += "<td class=\"mark-col\">\(mark)</td>"
            }
            html += "<td class=\"num\">\(item.support.isEmpty ? "<strong>nobody</strong>" : "\(item.support.count)/\(n)")</td></tr>\n"
        }
        return html + "</tbody>\n</table>\n</section>"
    }

    var termsSection: String {
        var html = "<section id=\"terms\">\n<h2>Terms</h2>\n"
        guard !report.terms.isEmpty else { return html + "<p>No terms.</p>\n</section>" }
        html += "<p class=\"muted\">Named things, titles and quantities the answers mention.</p>\n"
        html += "<table class=\"terms\">\n<thead><tr><th scope=\"col\">Term</th><th scope=\"col\">Kind</th>"
            + "<th scope=\"col\">Support</th><th scope=\"col\">Panelists</th></tr></thead>\n<tbody>\n"
        for term in report.terms {
            let level = ConsensusLevel(support: max(1, term.support.count), panelSize: n).rawValue
            html += "<tr><th scope=\"row\">\(HTMLEscaping.text(term.text))</th><td>\(term.kind.rawValue)</td>"
                + "<td class=\"num\"><span class=\"badge lvl-\(level)\">\(term.support.count)/\(n)</span></td>"
                + "<td>\(labelsHTML(term.support))</td></tr>\n"
        }
        return html + "</tbody>\n</table>\n</section>"
    }

    /// Anchor of the `v`-th value of the `c`-th conflict in the answers section.
    static func conflictAnchor(_ c: Int, _ v: Int) -> String { "c-\(c + 1)-\(v)" }

    var conflictsSection: String {
        guard !report.conflicts.isEmpty else { return "" }
        var html = "<section id=\"conflicts\">\n<h2>Conflicts</h2>\n"
            + "<p class=\"muted\">Panelists that state different values for the same point.</p>\n"
        for (c, conflict) in report.conflicts.enumerated() {
            html += "<article class=\"conflict\">\n<h3>\(HTMLEscaping.text(conflict.topic))</h3>\n"
            if let id = conflict.keyPoint, keyPoints.contains(where: { $0.id == id }) {
                html += "<p class=\"muted\">About \(keyPointLink(id))</p>\n"
            }
            html += "<div class=\"sides\">\n"
            for (v, value) in conflict.values.enumerated() {
                let shown = shows(value.panelist, sample: nil, start: value.start, end: value.end, quote: value.quote)
                html += "<div class=\"side\"><div class=\"who\">\(labelHTML(value.panelist))"
                    + (shown ? " <a class=\"jump\" href=\"#\(Self.conflictAnchor(c, v))\">in the answer ↓</a>" : "")
                    + "</div><p class=\"value\">\(HTMLEscaping.text(value.value))</p><blockquote class=\"ctx\">"
                    + quoteHTML(value.panelist, sample: nil, start: value.start, end: value.end, quote: value.quote,
                                markClass: "conflict")
                    + "</blockquote></div>\n"
            }
            html += "</div>\n</article>\n"
        }
        return html + "</section>"
    }
}
