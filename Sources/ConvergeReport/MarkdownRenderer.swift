import ConvergeCore
import Foundation

/// Renders a report as Markdown: CommonMark, with GitHub Flavored Markdown (GFM) tables.
///
/// This is the default human-readable output of `converge analyze`. Shape (sections in this order; blocks
/// separated by one blank line; the text ends with one `\n`):
///
/// ```markdown
/// # Converge report
///
/// > the prompt, line by line (only when the report has one)
///
/// **Panel:** AI 1 (openai/gpt-4o), AI 2, AI 3 · 3 of 3 answered · convergence index 0.42 · 5 key points (1 unanimous, …)
///
/// Consensus needs at least two answers; ...                         (only when fewer than 2 answered)
///
/// Failed panelists:                                                  (only when any failed)
///
/// - **AI 4** (openai/gpt-4o): the error
///
/// ## Key points
///
/// ### Experience                    (categories in order of first appearance, then "Other points";
///                                    or, when no key point has a category: Unanimous, Majority, Split, Unique)
///
/// - **5+ years of experience** — 2/3 · majority · AI 1, AI 3
///   - AI 1: “typically backed by 5+ years of dedicated experience”
///   - AI 3: “having 5+ years of experience”
///
/// ## Terms
///
/// | term | kind | support | panelists |
/// |---|---|---|---|
/// | C# | name | 1/3 | AI 2 |
///
/// ## Conflicts                                                       (only when any)
///
/// ### Years of experience
///
/// - AI 1: **5+ years** — “typically backed by 5+ years of dedicated experience”
/// - AI 2: **5-8+ years** — “typically brings 5-8+ years of experience”
///
/// ## Rubric coverage — Senior backend software engineer            (only when the report has a rubric)
///
/// | category | item | AI 1 | AI 2 | AI 3 | support |
/// |---|---|:-:|:-:|:-:|---|
/// | Experience | Five or more years of professional backend experience | ✓ |  | ✓ | 2/3 |
///
/// ## Omissions                                                       (with the rubric, or when any)
///
/// No panelist makes these points:
///
/// - **AI in the workflow**: Using AI tools to augment the engineer's own work (`ai-tools`)
///
/// _Similarity: lexical · 42 statements · engine converge-lexical-1_  (only when `analysis` is set)
/// ```
///
/// With a judge (`Report.judge`, `MarkdownRenderer+Judge.swift`): `## Synthesis (judge: MODEL)` before the key
/// points (or one line saying the judge failed), `## The judge's claims` before the terms, `## Contradictions
/// (judge)` after the conflicts; its verified blind spots are omissions.
///
/// Support is `k/n`: k supporting panelists of the n that answered. Panelists are shown by label, in the
/// order the report gives (support order for key points and terms, panel order for evidence and columns).
/// Each key point shows at most one quote per panelist (its first evidence), shortened to about
/// `quoteLimit` characters at a word boundary with `…`.
///
/// Escaping: text taken from answers, labels and the prompt cannot break the document. Line breaks inside
/// inline text (quotes, labels, cells, headings) are folded to single spaces, so no answer text starts a
/// line and nothing can inject a heading, list or table row; `\` and `<` are backslash-escaped (no raw HTML,
/// no accidental escapes); `|` is escaped in table cells; `*` in bold text and `_` in the italic footer;
/// a trailing `#` run in a heading. The prompt is quoted line by line, its Markdown otherwise kept.
public enum MarkdownRenderer {
    /// Quotes longer than this many characters are shortened at a word boundary.
    public static let quoteLimit = 160

    public static func render(_ report: Report) -> String {
        var doc = Document()
        let names = Names(report)
        let answered = report.answered
        let n = answered.count

        doc.block("# Converge report")
        if let prompt = report.prompt.map(trimmed), !prompt.isEmpty {
            doc.block(prompt.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
                .map { $0.isEmpty ? ">" : "> " + $0 }
                .joined(separator: "\n"))
        }

        // Summary.
        let panel = report.panelists.isEmpty ? "none" : report.panelists.map { entry in
            inline(entry.label) + (entry.model.map { " (\(inline($0)))" } ?? "")
        }.joined(separator: ", ")
        let levelCounts = ConsensusLevel.allCases.map { level in
            "\(report.keyPoints.filter { $0.consensus == level }.count) \(level.rawValue)"
        }
        let keyPointCount = report.keyPoints.count
        doc.block("**Panel:** \(panel) · \(n) of \(report.panelists.count) answered"
            + " · convergence index \(String(format: "%.2f", report.convergence.index))"
            + " · \(keyPointCount) key point\(keyPointCount == 1 ? "" : "s") (\(levelCounts.joined(separator: ", ")))")
        if n == 0 {
            doc.block("No panelist answered, so there is nothing to compare: consensus needs at least two answers.")
        } else if n == 1 {
            doc.block("Consensus needs at least two answers; only one panelist (\(inline(answered[0].label))) answered,"
                + " so every key point is unique and the convergence index means nothing.")
        }
        let failed = report.panelists.filter { $0.status == .failed }
        if !failed.isEmpty {
            doc.block("Failed panelists:")
            doc.block(failed.map { entry in
                let model = entry.model.map { " (\(inline($0)))" } ?? ""
                let error = entry.error.map(inline).flatMap { $0.isEmpty ? nil : $0 } ?? "no error message"
                return "- **\(strong(entry.label))**\(model): \(error)"
            }.joined(separator: "\n"))
        }
        // Answered, but not every request did (some samples or an earlier turn failed).
        let partly = report.panelists.filter { $0.status == .answered && !($0.error ?? "").isEmpty }
        if !partly.isEmpty {
            doc.block("Partly answered:")
            doc.block(partly.map { "- **\(strong($0.label))**: \(inline($0.error ?? ""))" }.joined(separator: "\n"))
        }

        judgeSynthesis(report, into: &doc)

        // Key points.
        doc.block("## Key points")
        if report.keyPoints.isEmpty {
            doc.block("No key points.")
        } else {
            for group in keyPointGroups(report.keyPoints) {
                doc.block("### " + heading(group.title))
                doc.block(group.keyPoints.map { keyPointItem($0, names: names, panelSize: n) }.joined(separator: "\n"))
            }
        }
        // What was set aside: counted, so that nothing silently disappears (the JSON lists each passage).
        if let filler = report.filler, !filler.isEmpty {
            var counts: [String: Int] = [:]
            for item in filler { counts[item.reason, default: 0] += 1 }
            let reasons = counts.keys.sorted().map { "\(counts[$0]!) \(inline($0))" }.joined(separator: ", ")
            doc.block("Set aside as filler (no point made; listed in the JSON report): \(reasons).")
        }

        judgeClaims(report, names: names, into: &doc)

        // Terms.
        doc.block("## Terms")
        if report.terms.isEmpty {
            doc.block("No terms.")
        } else {
            var rows = ["| term | kind | support | panelists |", "|---|---|---|---|"]
            for term in report.terms {
                let panelists = term.support.map { names.label($0) }.joined(separator: ", ")
                rows.append("| \(cell(term.text)) | \(term.kind.rawValue) | \(term.support.count)/\(n) | \(cell(panelists)) |")
            }
            doc.block(rows.joined(separator: "\n"))
        }

        // Conflicts.
        if !report.conflicts.isEmpty {
            doc.block("## Conflicts")
            for conflict in report.conflicts {
                doc.block("### " + heading(conflict.topic))
                doc.block(conflict.values.map { value in
                    "- \(inline(names.label(value.panelist))): **\(strong(value.value))** — \(quoted(value.quote))"
                }.joined(separator: "\n"))
            }
        }

        judgeContradictions(report, names: names, into: &doc)

        // Rubric coverage and omissions.
        if let rubric = report.rubric {
            doc.block("## Rubric coverage — " + heading(rubric.title))
            if rubric.items.isEmpty {
                doc.block("The rubric has no items.")
            } else {
                var rows = ["| category | item | " + answered.map { cell($0.label) + " | " }.joined() + "support |",
                            "|---|---|" + String(repeating: ":-:|", count: n) + "---|"]
                for item in rubric.items {
                    let supporters = Set(item.support)
                    let marks = answered.map { supporters.contains($0.id) ? "✓ | " : " | " }.joined()
                    rows.append("| \(cell(item.category)) | \(cell(item.text)) | \(marks)\(item.support.count)/\(n) |")
                }
                doc.block(rows.joined(separator: "\n"))
            }
        }
        if report.rubric != nil || !report.omissions.isEmpty {
            doc.block("## Omissions")
            if report.omissions.isEmpty {
                doc.block("Every rubric item is covered by at least one panelist.")
            } else {
                doc.block("No panelist makes these points:")
                // A judge's blind spot is the judge's words: escaped as every other judge text.
                let blindSpots = Set(report.judge?.blindSpots.map(\.item) ?? [])
                doc.block(report.omissions.map { omission in
                    let text = blindSpots.contains(omission.item) ? judgeText(omission.text) : inline(omission.text)
                    return "- **\(strong(omission.category))**: \(text) (\(code(omission.item)))"
                }.joined(separator: "\n"))
            }
        }

        if let analysis = report.analysis {
            var footer = "Similarity: \(inline(analysis.similarity)) · \(analysis.statements) statement"
                + (analysis.statements == 1 ? "" : "s") + " · engine \(inline(analysis.engine))"
            if analysis.blind { footer += " · blind labels" }
            doc.block("_" + footer.replacingAll("_", with: "\\_") + "_")
        }
        return doc.text
    }

    // MARK: - Key points

    struct Group {
        var title: String
        var keyPoints: [Report.KeyPoint]
    }

    /// Groups by category (first appearance order, uncategorised last under "Other points") when any key
    /// point has a category, otherwise by consensus level (widest first); report order within a group.
    static func keyPointGroups(_ keyPoints: [Report.KeyPoint]) -> [Group] {
        func category(_ keyPoint: Report.KeyPoint) -> String? {
            guard let category = keyPoint.category, !trimmed(category).isEmpty else { return nil }
            return category
        }
        if keyPoints.contains(where: { category($0) != nil }) {
            var groups: [Group] = []
            var index: [String: Int] = [:]
            var other: [Report.KeyPoint] = []
            for keyPoint in keyPoints {
                guard let name = category(keyPoint) else {
                    other.append(keyPoint)
                    continue
                }
                if let i = index[name] {
                    groups[i].keyPoints.append(keyPoint)
                } else {
                    index[name] = groups.count
                    groups.append(Group(title: name, keyPoints: [keyPoint]))
                }
            }
            if !other.isEmpty { groups.append(Group(title: "Other points", keyPoints: other)) }
            return groups
        }
        return ConsensusLevel.allCases.compactMap { level in
            let members = keyPoints.filter { $0.consensus == level }
            return members.isEmpty ? nil : Group(title: level.title, keyPoints: members)
        }
    }

    /// `- **label** — 2/3 · majority · AI 1, AI 2` (plus `· stability AI 1 67%, AI 2 100%` with repeat
    /// sampling), then one nested bullet per supporting panelist's first quote, in panel order.
    static func keyPointItem(_ keyPoint: Report.KeyPoint, names: Names, panelSize: Int) -> String {
        let label = trimmed(keyPoint.label).isEmpty ? keyPoint.id : keyPoint.label
        let supporters = keyPoint.support.map { names.label($0) }.joined(separator: ", ")
        // With repeat sampling: the share of each supporter's samples that make the point.
        let stability = keyPoint.stability.map { shares in
            " · stability " + inline(keyPoint.support.compactMap { id in
                shares[id].map { "\(names.label(id)) \(String(format: "%.0f%%", $0 * 100))" }
            }.joined(separator: ", "))
        } ?? ""
        var lines = ["- **\(strong(label))** — \(keyPoint.support.count)/\(panelSize) · \(keyPoint.consensus.rawValue)"
            + (supporters.isEmpty ? "" : " · \(inline(supporters))") + stability]
        // One quote per panelist: its most telling one, the longest of up to 200 characters (a lead-in such as
        // "Board" says less than the sentence that explains it), else its shortest; ties go to the first.
        func better(_ a: Report.Evidence, than b: Report.Evidence) -> Bool {
            let (x, y) = (a.quote.count, b.quote.count)
            switch (x <= 200, y <= 200) {
            case (true, true): return x > y
            case (true, false): return true
            case (false, true): return false
            case (false, false): return x < y
            }
        }
        var chosen: [String: (evidence: Report.Evidence, position: Int)] = [:]
        for (position, evidence) in keyPoint.evidence.enumerated() {
            if let current = chosen[evidence.panelist], !better(evidence, than: current.evidence) { continue }
            chosen[evidence.panelist] = (evidence, chosen[evidence.panelist]?.position ?? position)
        }
        let firstQuotes = chosen.values.sorted { $0.position < $1.position }.map(\.evidence)
        let inPanelOrder = firstQuotes.enumerated().sorted {
            (names.order($0.element.panelist), $0.offset) < (names.order($1.element.panelist), $1.offset)
        }.map(\.element)
        for evidence in inPanelOrder {
            lines.append("  - \(inline(names.label(evidence.panelist))): \(quoted(evidence.quote))")
        }
        return lines.joined(separator: "\n")
    }

    // MARK: - Text

    /// Panelist labels and panel order by id; unknown ids show as themselves, after the panel.
    struct Names {
        var labels: [String: String] = [:]
        var positions: [String: Int] = [:]

        init(_ report: Report) {
            for (i, entry) in report.panelists.enumerated() where positions[entry.id] == nil {
                labels[entry.id] = entry.label
                positions[entry.id] = i
            }
        }

        func label(_ id: String) -> String { labels[id] ?? id }
        func order(_ id: String) -> Int { positions[id] ?? Int.max }
    }

    /// A quote from an answer: folded, shortened to about `quoteLimit` characters, escaped, in curly quotes.
    static func quoted(_ quote: String) -> String {
        "“" + escape(shorten(fold(quote), limit: quoteLimit)) + "”"
    }

    /// Shortens folded text to at most `limit` characters plus `…`, cutting at the last space when that
    /// keeps at least half of it, and dropping punctuation left dangling at the cut.
    static func shorten(_ text: String, limit: Int) -> String {
        guard text.count > limit else { return text }
        var head = Substring(text.prefix(limit))
        if let space = head.lastIndex(of: " "), head.distance(from: head.startIndex, to: space) >= limit / 2 {
            head = head[..<space]
        }
        while let last = head.last, last == " " || ",;:-–—([{".contains(last) {
            head = head.dropLast()
        }
        return head + "…"
    }

    /// Inline text: whitespace runs (line breaks included) folded to one space, then escaped.
    static func inline(_ text: String) -> String { escape(fold(text)) }

    /// Inline text inside `**…**`.
    static func strong(_ text: String) -> String { inline(text).replacingAll("*", with: "\\*") }

    /// Inline text inside a GFM table cell.
    static func cell(_ text: String) -> String { inline(text).replacingAll("|", with: "\\|") }

    /// Heading text: inline text whose trailing `#` run, if it would be read as a closing sequence, is escaped.
    static func heading(_ text: String) -> String {
        let text = inline(text)
        let content = text.reversed().drop { $0 == "#" }
        guard content.count < text.count, content.isEmpty || content.first == " " else { return text }
        return String(content.reversed()) + "\\" + text.suffix(text.count - content.count)
    }

    /// A code span holding `text` (folded), fenced with more backticks than any run inside it.
    static func code(_ text: String) -> String {
        let text = fold(text)
        var longest = 0, run = 0
        for character in text {
            run = character == "`" ? run + 1 : 0
            longest = max(longest, run)
        }
        let fence = String(repeating: "`", count: longest + 1)
        let pad = text.hasPrefix("`") || text.hasSuffix("`") ? " " : ""
        return fence + pad + text + pad + fence
    }

    /// Collapses every run of white space (line breaks included) to one space and trims both ends.
    static func fold(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        var pendingSpace = false
        for scalar in text.unicodeScalars {
            if scalar.properties.isWhitespace || scalar == "\u{85}" {
                pendingSpace = !out.isEmpty
            } else {
                if pendingSpace { out.append(" ") }
                pendingSpace = false
                out.append(scalar)
            }
        }
        return String(out)
    }

    /// Backslash-escapes `\` and `<`: no raw HTML, autolinks or accidental escapes from answer text.
    static func escape(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if scalar == "\\" || scalar == "<" { out.append("\\") }
            out.append(scalar)
        }
        return String(out)
    }

    static func trimmed(_ text: String) -> String {
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let last = scalars.lastIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        return String(scalars[first...last])
    }

    /// Markdown blocks joined by blank lines.
    struct Document {
        private var blocks: [String] = []
        mutating func block(_ text: String) { blocks.append(text) }
        var text: String { blocks.joined(separator: "\n\n") + "\n" }
    }
}

extension String {
    /// Replaces every occurrence of one ASCII character by a string (scalar-wise, so combining marks
    /// following the character do not hide it).
    fileprivate func replacingAll(_ target: Unicode.Scalar, with replacement: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in unicodeScalars {
            if scalar == target { out.append(contentsOf: replacement.unicodeScalars) } else { out.append(scalar) }
        }
        return String(out)
    }
}
