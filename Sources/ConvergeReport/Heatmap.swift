import ConvergeCore

/// The heatmap of the HTML report: one row per key point (in display order, under its group's title), one
/// column per answering panelist. A cell is filled with the key point's consensus colour and holds a dot
/// where the panelist makes the point, and is left empty where it does not, so the marks read without
/// colour too. Every cell has a `<title>` (tooltip and accessible name), row labels link to the key point,
/// and a legend follows.
extension HTMLPage {
    static let heatmapLabelWidth = 430
    static let heatmapCell = 36
    static let heatmapRow = 24
    /// At most this many key points get a row (in display order, so the least shared are dropped first
    /// without a rubric); the key points section lists them all.
    static let heatmapRowLimit = 400

    /// The groups as the heatmap shows them: cut after `heatmapRowLimit` key points.
    var heatmapGroups: [(title: String, range: Range<Int>)] {
        var out: [(title: String, range: Range<Int>)] = []
        for group in groups where group.range.lowerBound < Self.heatmapRowLimit {
            out.append((group.title, group.range.lowerBound..<min(group.range.upperBound, Self.heatmapRowLimit)))
        }
        return out
    }

    var heatmapSection: String {
        guard !keyPoints.isEmpty, n > 0 else { return "" }
        var html = "<section id=\"heatmap\">\n<h2>Heatmap</h2>\n<p class=\"muted\">Which panelist makes which key point. "
            + "Colour shows the consensus level; a dot marks a panelist that makes the point. Select a row to open it.</p>\n"
        if keyPoints.count > Self.heatmapRowLimit {
            html += "<p class=\"note\">The heatmap shows the first \(Self.heatmapRowLimit) of \(keyPoints.count) key points; "
                + "the key points section lists them all.</p>\n"
        }
        html += "<div class=\"heatmap-scroll\">\n" + heatmapSVG + "</div>\n"
        html += "<ul class=\"legend\" aria-label=\"Legend\">\n"
        for level in ConsensusLevel.allCases {
            html += "<li><svg width=\"14\" height=\"14\" aria-hidden=\"true\">"
                + "<rect class=\"lvl-\(level.rawValue)\" width=\"14\" height=\"14\" rx=\"2\"/></svg> "
                + "\(level.title)</li>\n"
        }
        html += "<li><svg width=\"14\" height=\"14\" aria-hidden=\"true\">"
            + "<rect class=\"empty\" x=\"0.5\" y=\"0.5\" width=\"13\" height=\"13\" rx=\"2\"/></svg> does not make the point</li>\n"
        return html + "</ul>\n</section>"
    }

    var heatmapSVG: String {
        let ids = answered.map(\.id)
        let cell = Self.heatmapCell, row = Self.heatmapRow, left = Self.heatmapLabelWidth
        let columnLabels = ids.map { MarkdownRenderer.shorten(MarkdownRenderer.fold(label($0)), limit: 24) }
        let longest = columnLabels.map(\.count).max() ?? 0
        // Rotated by 45°, a column label reaches about 0.72 of its length up and to the right.
        let reach = Int((Double(min(longest, 25)) * 7.2 * 0.72).rounded())
        let top = 18 + reach
        let shown = heatmapGroups
        let rows = shown.reduce(0) { $0 + $1.range.count + 1 }
        let width = max(left + ids.count * cell + 56, left + ids.count * cell - cell / 2 + 12 + reach)
        let height = top + rows * row + 6
        let levels = ConsensusLevel.allCases.map { level in "\(keyPoints.filter { $0.consensus == level }.count) \(level.rawValue)" }
        var svg = "<svg class=\"heatmap\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\" "
            + "role=\"img\" aria-labelledby=\"heatmap-title heatmap-desc\">\n"
        svg += "<title id=\"heatmap-title\">Key points by panelist</title>\n"
        svg += "<desc id=\"heatmap-desc\">\(keyPoints.count) key points (\(levels.joined(separator: ", "))) in rows, "
            + "\(ids.count) panelists in columns; a filled cell with a dot means the panelist makes the point. "
            + "The key points section lists the same with quotes.</desc>\n"
        // Column headers, rotated.
        for (c, id) in ids.enumerated() {
            let x = left + c * cell + cell / 2
            svg += "<text class=\"col\" transform=\"translate(\(x + 4) \(top - 6)) rotate(-45)\">"
                + "<title>\(HTMLEscaping.text(label(id)))</title>\(HTMLEscaping.text(columnLabels[c]))</text>\n"
        }
        svg += "<text class=\"col support\" x=\"\(left + ids.count * cell + 28)\" y=\"\(top - 6)\" text-anchor=\"middle\">support</text>\n"
        var y = top
        for group in shown {
            let title = HTMLEscaping.text(MarkdownRenderer.shorten(MarkdownRenderer.fold(group.title), limit: 48))
            svg += "<text class=\"group\" x=\"0\" y=\"\(y + row - 8)\">\(title)</text>\n"
            svg += "<line class=\"rule\" x1=\"0\" x2=\"\(width)\" y1=\"\(y + row - 1)\" y2=\"\(y + row - 1)\"/>\n"
            y += row
            for k in group.range {
                svg += heatmapRow(k, ids: ids, y: y)
                y += row
            }
        }
        return svg + "</svg>\n"
    }

    private func heatmapRow(_ k: Int, ids: [String], y: Int) -> String {
        let point = keyPoints[k]
        let cell = Self.heatmapCell, row = Self.heatmapRow, left = Self.heatmapLabelWidth
        let name = pointLabel(point)
        let level = point.consensus.rawValue
        let short = MarkdownRenderer.shorten(MarkdownRenderer.fold(name), limit: 54)
        var svg = "<a href=\"#kp-\(numbers[k])\"><text class=\"row\" x=\"0\" y=\"\(y + row - 8)\">"
            + "<title>K\(numbers[k]) \(HTMLEscaping.text(name)) (\(level), \(point.support.count)/\(n))</title>"
            + "<tspan class=\"num\">K\(numbers[k])</tspan> \(HTMLEscaping.text(short))</text></a>\n"
        let supporters = Set(point.support)
        for (c, id) in ids.enumerated() {
            let x = left + c * cell
            let makes = supporters.contains(id)
            let tip = "K\(numbers[k]) \(name): \(label(id)) \(makes ? "makes this point" : "does not make this point") (\(level))"
            svg += "<g><title>\(HTMLEscaping.text(tip))</title>"
            if makes {
                svg += "<rect class=\"lvl-\(level)\" x=\"\(x + 2)\" y=\"\(y + 2)\" width=\"\(cell - 4)\" height=\"\(row - 4)\" rx=\"3\"/>"
                    + "<circle class=\"dot\" cx=\"\(x + cell / 2)\" cy=\"\(y + row / 2)\" r=\"4\"/>"
            } else {
                svg += "<rect class=\"empty\" x=\"\(x + 2)\" y=\"\(y + 2)\" width=\"\(cell - 4)\" height=\"\(row - 4)\" rx=\"3\"/>"
            }
            svg += "</g>\n"
        }
        svg += "<text class=\"support\" x=\"\(left + ids.count * cell + 28)\" y=\"\(y + row - 8)\" text-anchor=\"middle\">"
            + "\(point.support.count)/\(n)</text>\n"
        return svg
    }

    /// A key point's label, or its id when the label is blank.
    func pointLabel(_ point: Report.KeyPoint) -> String {
        MarkdownRenderer.trimmed(point.label).isEmpty ? point.id : point.label
    }
}
