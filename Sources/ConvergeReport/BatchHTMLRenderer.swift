import ConvergeCore
import Foundation

/// The batch report as one self-contained HTML page (inline CSS, no script): the panelists' table, the
/// agreement matrix (cells shaded by agreement), the prompts lowest convergence first, each linking to its
/// survey's report. Every text from a batch file or an answer is escaped.
enum BatchHTMLRenderer {
    static func render(_ report: BatchReport, link: (BatchReport.Item) -> String) -> String {
        var html = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Batch report\(report.batch.map { " " + HTMLEscaping.text($0) } ?? "")</title>
            <style>\(HTMLStyle.css)
            table.batch { border-collapse: collapse; font-size: .9rem; margin: .6rem 0; }
            table.batch th, table.batch td { border: 1px solid var(--line); padding: .25rem .5rem; text-align: right; }
            table.batch th:first-child, table.batch td.text { text-align: left; }
            </style></head><body><main>
            <header class="page"><p class="brand">Converge</p><span class="muted">batch report</span></header>

            """
        let reported = report.items.filter { $0.convergence != nil }.count
        html += "<p>\(report.items.count) prompts, \(reported) with a report; \(report.panelists.count) panelists; "
            + "mean convergence index \(BatchReportRenderer.number(report.meanConvergence)).</p>\n"
        html += "<h2>Panelists</h2>\n<table class=\"batch\"><thead><tr>"
        for title in ["panelist", "model", "answered", "failure rate", "key points", "shared", "unique", "outlier",
                      "omissions", "latency p50 / p95", "tokens in / out", "cost (USD)"] {
            html += "<th>\(title)</th>"
        }
        html += "</tr></thead><tbody>\n"
        for row in BatchReportRenderer.panelistCells(report) {
            html += "<tr><td class=\"text\">" + row.map(HTMLEscaping.text).joined(separator: "</td><td>") + "</td></tr>\n"
        }
        html += "</tbody></table>\n<h2>Agreement</h2>\n"
        html += "<p class=\"muted\">Mean Jaccard similarity of the key points two panelists support, over the prompts both answered.</p>\n"
        html += "<table class=\"batch\"><thead><tr><th></th>"
        html += report.panelists.map { "<th>\(HTMLEscaping.text($0.label))</th>" }.joined() + "</tr></thead><tbody>\n"
        for a in report.panelists {
            html += "<tr><th>\(HTMLEscaping.text(a.label))</th>"
            for b in report.panelists {
                let value = report.agreement[a.id]?[b.id]
                let shade = value.map { Int((1 - $0) * 100 + 155) } ?? 255
                html += "<td style=\"background: rgb(\(shade), \(shade), 255)\">\(BatchReportRenderer.number(value))</td>"
            }
            html += "</tr>\n"
        }
        html += "</tbody></table>\n<h2>Prompts, lowest convergence first</h2>\n<table class=\"batch\"><thead><tr>"
        html += "<th>prompt</th><th>convergence</th><th>answered</th><th>outlier</th><th>survey</th></tr></thead><tbody>\n"
        let names = Dictionary(report.panelists.map { ($0.id, $0.label) }, uniquingKeysWith: { a, _ in a })
        for item in report.items {
            let prompt = MarkdownRenderer.shorten(item.prompt ?? "(no report yet)", limit: 100)
            html += "<tr><td class=\"text\"><code>\(HTMLEscaping.text(item.id))</code> \(HTMLEscaping.text(prompt))</td>"
                + "<td>\(BatchReportRenderer.number(item.convergence))</td><td>\(item.answered)/\(item.panelSize)</td>"
                + "<td class=\"text\">\(HTMLEscaping.text(item.outlier.map { names[$0] ?? $0 } ?? ""))</td>"
                + "<td class=\"text\"><a href=\"\(HTMLEscaping.attribute(link(item)))\">\(HTMLEscaping.text(item.survey))</a></td></tr>\n"
        }
        return html + "</tbody></table>\n</main></body></html>\n"
    }
}
