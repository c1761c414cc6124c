import ConvergeCore

/// The judge's parts of the Markdown report (`Report.judge`): its synthesis after the summary, its verified
/// claims after the key points, its contradictions after the conflicts (its blind spots are omissions, listed
/// with them). Everything the judge wrote is text, never markup: `judgeText` escapes every character that could
/// start a link, an image, a code span, emphasis or HTML.
extension MarkdownRenderer {
    /// The judge's own words (points, stances, topics, synthesis) as inline text with every Markdown
    /// punctuation that could make markup backslash-escaped (CommonMark: any ASCII punctuation may be).
    static func judgeText(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in fold(text).unicodeScalars {
            if "\\`*_[]()<>!#|~&".unicodeScalars.contains(scalar) { out.append("\\") }
            out.append(scalar)
        }
        return String(out)
    }

    /// `## Synthesis` (judge's sentences, each with the key points it cites), or the judge's failure.
    static func judgeSynthesis(_ report: Report, into doc: inout Document) {
        guard let judge = report.judge else { return }
        let who = "judge: \(inline(judge.model))" + (judge.onPanel ? ", also on the panel" : "")
        guard judge.status == .verified else {
            doc.block("**Judge** (\(who)) failed: \(judgeText(judge.error ?? "no reason given")). This report is the matcher's alone.")
            return
        }
        guard !judge.synthesis.isEmpty else { return }
        let labels = Dictionary(report.keyPoints.map { ($0.id, $0.label) }, uniquingKeysWith: { a, _ in a })
        doc.block("## Synthesis (\(who))")
        doc.block(judge.synthesis.map { sentence in
            let cited = sentence.keyPoints.map { "\(inline(labels[$0] ?? $0)) (\(code($0)))" }.joined(separator: "; ")
            return "- \(judgeText(sentence.text)) — _key points:_ \(cited)"
        }.joined(separator: "\n"))
    }

    /// `## The judge's claims`: verified consensus and unique points with quotes, where the matcher disagrees,
    /// and how many claims were dropped.
    static func judgeClaims(_ report: Report, names: Names, into doc: inout Document) {
        guard let judge = report.judge, judge.status == .verified else { return }
        let claims = judge.consensus + judge.unique
        guard !claims.isEmpty || !judge.dropped.isEmpty else { return }
        doc.block("## The judge's claims (their quotes found in the answers)")
        if !claims.isEmpty {
            doc.block(claims.map { claim in
                let supporters = claim.support.map { names.label($0) }.joined(separator: ", ")
                var line = "- **\(judgeText(claim.text))** — \(inline(supporters))"
                if let keyPoint = claim.keyPoint {
                    line += " · key point \(code(keyPoint))"
                    if claim.agreesWithMatcher == false { line += " (the matcher's support differs)" }
                }
                if !claim.removedSupport.isEmpty {
                    line += " · not found in " + inline(claim.removedSupport.map { names.label($0) }.joined(separator: ", "))
                }
                var lines = [line]
                for evidence in claim.evidence {
                    lines.append("  - \(inline(names.label(evidence.panelist))): \(quoted(evidence.quote))")
                }
                return lines.joined(separator: "\n")
            }.joined(separator: "\n"))
        }
        if !judge.dropped.isEmpty {
            doc.block("Dropped as unverified: \(judge.dropped.count) claim\(judge.dropped.count == 1 ? "" : "s") "
                + "(listed with their reasons in the JSON report).")
        }
    }

    /// `## Contradictions (judge)`: opposite stances, each side with its quote.
    static func judgeContradictions(_ report: Report, names: Names, into doc: inout Document) {
        guard let judge = report.judge, judge.status == .verified, !judge.contradictions.isEmpty else { return }
        doc.block("## Contradictions (judge)")
        for contradiction in judge.contradictions {
            doc.block("### " + judgeText(contradiction.topic))
            doc.block(contradiction.sides.map { side in
                let stance = trimmed(side.stance).isEmpty ? "" : "**\(judgeText(side.stance))** — "
                return "- \(inline(names.label(side.panelist))): \(stance)\(quoted(side.evidence.quote))"
            }.joined(separator: "\n"))
        }
    }
}
