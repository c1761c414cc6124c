import ConvergeCore

/// The judge's sections of the page (`Report.judge`): its synthesis with links to the key points it cites and
/// its verified claims with their quotes in context; its contradictions beside the conflicts. Its blind spots
/// are omissions (shown with them). The judge's words are escaped text, never markup.
extension HTMLPage {
    /// `#K3 label` link to a key point of this page, or the bare id.
    func keyPointLink(_ id: String) -> String {
        guard let k = keyPoints.firstIndex(where: { $0.id == id }) else { return HTMLEscaping.text(id) }
        return "<a href=\"#kp-\(numbers[k])\">K\(numbers[k]) \(HTMLEscaping.text(pointLabel(keyPoints[k])))</a>"
    }

    var judgeSection: String {
        guard let judge = report.judge else { return "" }
        let who = "Judge: <bdi>\(HTMLEscaping.text(judge.model))</bdi>" + (judge.onPanel ? " (also on the panel)" : "")
        var html = "<section id=\"judge\">\n<h2>Synthesis</h2>\n<p class=\"muted\">\(who). "
        guard judge.status == .verified else {
            return html + "The judge failed: \(HTMLEscaping.text(judge.error ?? "no reason given")). "
                + "This report is the matcher's alone.</p>\n</section>"
        }
        html += "Only what was verified against the answers is shown"
            + (judge.dropped.isEmpty ? "" : "; \(Self.plural(judge.dropped.count, "claim")) dropped (listed in the JSON report)")
            + ".</p>\n"
        if !judge.synthesis.isEmpty {
            html += "<ul class=\"synthesis\">\n"
            for sentence in judge.synthesis {
                html += "<li>\(HTMLEscaping.text(sentence.text)) <span class=\"muted\">("
                    + sentence.keyPoints.map(keyPointLink).joined(separator: "; ") + ")</span></li>\n"
            }
            html += "</ul>\n"
        }
        let claims = judge.consensus + judge.unique
        if !claims.isEmpty {
            html += "<h3>The judge's claims</h3>\n"
            for claim in claims {
                html += "<article class=\"claim\">\n<p><strong>\(HTMLEscaping.text(claim.text))</strong> — "
                    + labelsHTML(claim.support)
                if let id = claim.keyPoint {
                    html += " · " + keyPointLink(id)
                    if claim.agreesWithMatcher == false { html += " <span class=\"muted\">(the matcher's support differs)</span>" }
                }
                if !claim.removedSupport.isEmpty {
                    html += " <span class=\"muted\">· not found in \(labelsHTML(claim.removedSupport))</span>"
                }
                html += "</p>\n"
                for evidence in claim.evidence {
                    html += "<blockquote class=\"ctx\"><span class=\"who\">\(labelHTML(evidence.panelist))</span> "
                        + quoteHTML(evidence.panelist, sample: evidence.sample, start: evidence.start, end: evidence.end,
                                    quote: evidence.quote, markClass: "judge")
                        + "</blockquote>\n"
                }
                html += "</article>\n"
            }
        }
        return html + "</section>"
    }

    var judgeContradictionsSection: String {
        guard let judge = report.judge, judge.status == .verified, !judge.contradictions.isEmpty else { return "" }
        var html = "<section id=\"contradictions\">\n<h2>Contradictions (judge)</h2>\n"
            + "<p class=\"muted\">Opposite stances the judge found, each side in the answer's own words.</p>\n"
        for contradiction in judge.contradictions {
            html += "<article class=\"conflict\">\n<h3>\(HTMLEscaping.text(contradiction.topic))</h3>\n<div class=\"sides\">\n"
            for side in contradiction.sides {
                html += "<div class=\"side\"><div class=\"who\">\(labelHTML(side.panelist))</div>"
                    + "<p class=\"value\">\(HTMLEscaping.text(side.stance))</p><blockquote class=\"ctx\">"
                    + quoteHTML(side.panelist, sample: side.evidence.sample, start: side.evidence.start,
                                end: side.evidence.end, quote: side.evidence.quote, markClass: "conflict")
                    + "</blockquote></div>\n"
            }
            html += "</div>\n</article>\n"
        }
        return html + "</section>"
    }
}
