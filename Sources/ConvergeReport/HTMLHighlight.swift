/// Highlighting of exact quotes inside answer text, by Unicode scalar offsets (never by `Character`, so an
/// emoji or a combining mark counts as the report counts it).
enum HTMLHighlight {
    /// At most this many scalars of context are shown on each side of a quote.
    static let contextLimit = 180

    /// The sentence(s) holding `start..<end`, within its line (without list or heading markers), with the
    /// quote in `<mark>`; context longer than `contextLimit` scalars on a side is cut at a space and marked
    /// `…`. A sentence ends at `.`, `!` or `?` followed by white space.
    ///
    /// `start..<end` must be a valid, non-empty range of `text`.
    static func context(_ text: [Unicode.Scalar], start: Int, end: Int, markClass: String) -> String {
        func endsSentence(_ i: Int) -> Bool {
            ".!?".unicodeScalars.contains(text[i]) && (i + 1 == text.count || text[i + 1].properties.isWhitespace)
        }
        var from = start
        while from > 0, text[from - 1] != "\n", !(from >= 2 && text[from - 1].properties.isWhitespace && endsSentence(from - 2)) {
            from -= 1
        }
        var to = end
        if to > start, endsSentence(to - 1) {
            // The quote ends its sentence.
        } else {
            while to < text.count, text[to] != "\n" {
                to += 1
                if endsSentence(to - 1) { break }
            }
        }
        from = skipMarkers(text, from: from, limit: start)
        while to > end, text[to - 1].properties.isWhitespace { to -= 1 }

        var lead = ""
        if start - from > contextLimit {
            from = start - contextLimit
            while from < start, !text[from].properties.isWhitespace { from += 1 }
            if from < start { from += 1 }
            lead = "…"
        }
        var tail = ""
        if to - end > contextLimit {
            to = end + contextLimit
            while to > end, !text[to - 1].properties.isWhitespace { to -= 1 }
            tail = "…"
        }
        return lead + HTMLEscaping.text(scalars: withoutEmphasis(text[from..<start]))
            + "<mark class=\"\(markClass)\">" + HTMLEscaping.text(scalars: text[start..<end]) + "</mark>"
            + HTMLEscaping.text(scalars: withoutEmphasis(text[end..<to])) + tail
    }

    /// Context around a quote without Markdown's strong emphasis markers (`**`, `__`), which read as noise
    /// when the Markdown is not rendered. The quote itself is always shown exactly.
    static func withoutEmphasis(_ scalars: ArraySlice<Unicode.Scalar>) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(scalars.count)
        var i = scalars.startIndex
        while i < scalars.endIndex {
            let c = scalars[i]
            if c == "*" || c == "_", i + 1 < scalars.endIndex, scalars[i + 1] == c {
                i += 2
                continue
            }
            out.append(c)
            i += 1
        }
        return out
    }

    /// Skips leading white space and a Markdown list or heading marker (`-`, `*`, `+`, `1.`, `#`, `>`) that
    /// ends before `limit`.
    static func skipMarkers(_ text: [Unicode.Scalar], from: Int, limit: Int) -> Int {
        var i = from
        while i < limit, text[i] == " " || text[i] == "\t" { i += 1 }
        var j = i
        while j < limit, "#>-*+".unicodeScalars.contains(text[j]) || ("0"..."9").contains(text[j]) || text[j] == "." {
            j += 1
        }
        if j > i, j < limit, text[j] == " " {
            i = j
            while i < limit, text[i] == " " { i += 1 }
        }
        return i
    }

    /// One highlighted span of an answer.
    struct Span {
        var start: Int
        var end: Int
        /// Element id placed where the span starts (the target of links to this quote).
        var anchor: String
        /// CSS class of the `<mark>` (its colour); the first span covering a stretch decides.
        var markClass: String
        /// Tooltip text: what the quote is evidence of.
        var title: String
        /// A link placed where the span ends: (href fragment, text, tooltip), e.g. back to its key point.
        var backLink: (href: String, text: String, title: String)?
    }

    /// The whole answer, escaped, with every valid span in `<mark>` (overlapping spans share marks), an
    /// empty anchor element where each span starts and its back link where it ends. Spans out of range are
    /// skipped. Cost: O((s + b) log b) for s spans over b boundaries, plus the text.
    static func answer(_ text: [Unicode.Scalar], spans: [Span]) -> String {
        let spans = spans.filter { 0 <= $0.start && $0.start < $0.end && $0.end <= text.count }
        var starting: [Int: [Int]] = [:], ending: [Int: [Int]] = [:]
        for (i, span) in spans.enumerated() {
            starting[span.start, default: []].append(i)
            ending[span.end, default: []].append(i)
        }
        let boundaries = Set([0, text.count]).union(starting.keys).union(ending.keys).sorted()
        var active: [Int] = []  // indices of spans covering the current stretch, in span order
        var out = ""
        for (b, position) in boundaries.enumerated() {
            var links: Set<String> = []
            for i in ending[position] ?? [] {
                active.removeAll { $0 == i }
                if let link = spans[i].backLink, links.insert(link.href).inserted {
                    out += "<a class=\"ref\" href=\"#\(link.href)\" title=\"\(HTMLEscaping.attribute(link.title))\">"
                        + HTMLEscaping.text(link.text) + "</a>"
                }
            }
            for i in starting[position] ?? [] {
                out += "<span class=\"anchor\" id=\"\(spans[i].anchor)\"></span>"
                active.append(i)
            }
            active.sort()
            guard b + 1 < boundaries.count else { break }
            let stretch = HTMLEscaping.text(scalars: text[position..<boundaries[b + 1]])
            if let first = active.first {
                var seen: Set<String> = []
                let title = active.map { spans[$0].title }.filter { seen.insert($0).inserted }.joined(separator: "; ")
                out += "<mark class=\"\(spans[first].markClass)\" title=\"\(HTMLEscaping.attribute(title))\">"
                    + stretch + "</mark>"
            } else {
                out += stretch
            }
        }
        return out
    }
}
