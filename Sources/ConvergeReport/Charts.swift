import ConvergeCore

/// Small inline SVG charts of the HTML report. Every chart has `role="img"` and a text alternative; colours
/// come from the stylesheet (`HTMLStyle`), by consensus level.
enum Charts {
    /// A horizontal bar from 0 to 1 filled to `value` (clamped to [0, 1]), with ticks at 0, 0.5 and 1.
    static func gauge(_ value: Double) -> String {
        let width = 300.0, v = min(1, max(0, value))
        let fill = (v * width * 10).rounded() / 10
        return """
            <svg class="gauge" width="320" height="34" viewBox="0 0 320 34" role="img" \
            aria-label="Convergence index \(HTMLPage.format(v)) on a scale from 0 to 1">
            <rect class="track" x="10" y="4" width="\(Int(width))" height="14" rx="7"/>
            <rect class="fill" x="10" y="4" width="\(fill)" height="14" rx="7"/>
            <text x="10" y="31" text-anchor="middle">0</text><text x="160" y="31" text-anchor="middle">0.5</text>\
            <text x="310" y="31" text-anchor="middle">1</text>
            </svg>

            """
    }

    /// One bar split by consensus level, each part as wide as its share of the key points.
    static func consensusBar(_ counts: [(ConsensusLevel, Int)]) -> String {
        let total = counts.reduce(0) { $0 + $1.1 }
        guard total > 0 else { return "" }
        let width = 600.0
        let summary = counts.map { "\($0.1) \($0.0.rawValue)" }.joined(separator: ", ")
        var svg = "<svg class=\"consensus-bar\" width=\"600\" height=\"26\" viewBox=\"0 0 600 26\" role=\"img\" "
            + "aria-label=\"Key points by consensus level: \(summary)\">\n"
        var x = 0.0
        for (level, count) in counts where count > 0 {
            let w = width * Double(count) / Double(total)
            let x0 = (x * 10).rounded() / 10, w0 = (w * 10).rounded() / 10
            svg += "<g><title>\(count) \(level.rawValue)</title>"
                + "<rect class=\"lvl-\(level.rawValue)\" x=\"\(x0)\" y=\"0\" width=\(q(w0)) height=\"26\"/>"
            if w >= 70 {
                svg += "<text x=\(q(((x + w / 2) * 10).rounded() / 10)) y=\"17\" text-anchor=\"middle\">\(count) \(level.rawValue)</text>"
            }
            svg += "</g>\n"
            x += w
        }
        return svg + "</svg>\n"
    }

    private static func q(_ value: Double) -> String { "\"\(value)\"" }
}
