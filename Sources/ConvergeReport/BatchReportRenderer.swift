import ConvergeCore
import Foundation

/// Renders a ``BatchReport``: `json` (batch report schema version 1, `schema/batch-report-v1.json`), `md`
/// (Markdown: the panelists' table, the agreement matrix, the prompts lowest convergence first, each linking to
/// its survey's report), `csv` (one row per panelist, RFC 4180, cells neutralised as ``CSVRenderer`` does).
/// `html` (one self-contained page, ``BatchHTMLRenderer``). Pure: equal reports give equal bytes; every
/// format ends with a line break.
public enum BatchReportRenderer {
    /// - Parameter link: the link target of a prompt's survey report, from its item (`nil`: `surveys/ITEM.md`
    ///   from Markdown, `surveys/ITEM.html` from HTML, where `converge batches export` writes them).
    public static func render(_ report: BatchReport, format: ReportFormat,
                              link: ((BatchReport.Item) -> String)? = nil) -> String {
        let link = link ?? { "surveys/\($0.id).\(format == .html ? "html" : "md")" }
        return switch format {
        case .json: json(report)
        case .md: markdown(report, link: link)
        case .csv: csv(report)
        case .html: BatchHTMLRenderer.render(report, link: link)
        }
    }

    static func json(_ report: BatchReport) -> String {
        let encoder = JSONRenderer.makeEncoder()
        return ((try? encoder.encode(report)).map { String(decoding: $0, as: UTF8.self) } ?? "{}") + "\n"
    }

    static func markdown(_ report: BatchReport, link: (BatchReport.Item) -> String) -> String {
        var lines = ["# Batch report" + (report.batch.map { " `\($0)`" } ?? ""), ""]
        let reported = report.items.filter { $0.convergence != nil }.count
        lines.append("\(report.items.count) prompts, \(reported) with a report; \(report.panelists.count) panelists; "
                     + "mean convergence index \(number(report.meanConvergence)).")
        lines += ["", "## Panelists", "",
                  "| panelist | model | answered | failure rate | key points | shared | unique | outlier | omissions "
                      + "| latency p50 / p95 | tokens in / out | cost (USD) |",
                  "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for cells in panelistCells(report) {
            lines.append("| " + cells.map(MarkdownRenderer.cell).joined(separator: " | ") + " |")
        }
        lines += ["", "## Agreement", "", "Mean Jaccard similarity of the key points two panelists support, over the prompts both answered.", ""]
        let ids = report.panelists.map(\.id)
        let labels = report.panelists.map { MarkdownRenderer.cell($0.label) }
        lines.append("| | " + labels.joined(separator: " | ") + " |")
        lines.append("|---|" + ids.map { _ in "---:|" }.joined())
        for (a, label) in zip(ids, labels) {
            lines.append("| \(label) | " + ids.map { number(report.agreement[a]?[$0]) }.joined(separator: " | ") + " |")
        }
        lines += ["", "## Prompts, lowest convergence first", "",
                  "| prompt | convergence | answered | outlier | survey |", "|---|---:|---:|---|---|"]
        let names = Dictionary(report.panelists.map { ($0.id, $0.label) }, uniquingKeysWith: { a, _ in a })
        for item in report.items {
            let prompt = MarkdownRenderer.cell(MarkdownRenderer.shorten(item.prompt ?? "(no report yet)", limit: 80))
            let outlier = item.outlier.map { MarkdownRenderer.cell(names[$0] ?? $0) } ?? ""
            let target = link(item).replacingOccurrences(of: ")", with: "%29").replacingOccurrences(of: " ", with: "%20")
            lines.append("| \(MarkdownRenderer.cell(item.id)): \(prompt) | \(number(item.convergence)) | "
                         + "\(item.answered)/\(item.panelSize) | \(outlier) | [\(item.survey)](\(target)) |")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Each panelist's row of the human-readable tables, as plain text (each renderer escapes it): label, model,
    /// answered, failure rate, key points, shared, unique, outlier, omissions, latency, tokens, cost.
    static func panelistCells(_ report: BatchReport) -> [[String]] {
        report.panelists.map { p in
            let omissions = p.omissions.map { o in
                [o.items == 0 ? nil : "\(percent(o.rate)) (\(o.missed)/\(o.items))",
                 o.judgeBlindSpots == 0 && o.items > 0 ? nil : "\(o.judgeBlindSpots) judge blind spots"]
                    .compactMap { $0 }.joined(separator: "; ")
            } ?? "n/a"
            let latency = p.latencyMs.map { "\(Int($0.p50.rounded())) / \(Int($0.p95.rounded())) ms" } ?? "unknown"
            let tokens = p.inputTokens == nil && p.outputTokens == nil ? "unknown"
                : "\(p.inputTokens.map(String.init) ?? "?") / \(p.outputTokens.map(String.init) ?? "?")"
            let cost = p.costUSD.map { String(format: "%.4f", $0) } ?? "unknown"
            let outlier = "\(p.outlier)" + (p.outlierRate.map { " (\(percent($0)))" } ?? "")
            return [p.label, p.model ?? "", "\(p.answered)/\(p.prompts)", percent(p.failureRate), "\(p.keyPoints)",
                    percent(p.sharedShare), percent(p.uniqueShare), outlier, omissions, latency, tokens, cost]
        }
    }

    static func csv(_ report: BatchReport) -> String {
        var records = [["panelist", "label", "model", "prompts", "answered", "failure_rate", "key_points", "shared_share",
                        "unique_share", "outlier", "outlier_rate", "omission_rate", "latency_p50_ms", "latency_p95_ms",
                        "input_tokens", "output_tokens", "cost_usd"]]
        for p in report.panelists {
            records.append([p.id, p.label, p.model ?? "", "\(p.prompts)", "\(p.answered)", "\(p.failureRate)",
                            "\(p.keyPoints)", optional(p.sharedShare), optional(p.uniqueShare), "\(p.outlier)",
                            optional(p.outlierRate), optional(p.omissions?.rate), optional(p.latencyMs?.p50),
                            optional(p.latencyMs?.p95), p.inputTokens.map(String.init) ?? "",
                            p.outputTokens.map(String.init) ?? "", p.costUSD.map { "\($0)" } ?? "unknown"])
        }
        return records.map { $0.map { CSVRenderer.field(CSVRenderer.neutralized($0)) }.joined(separator: ",") + "\r\n" }
            .joined()
    }

    private static func optional(_ value: Double?) -> String { value.map { "\($0)" } ?? "" }
    static func number(_ value: Double?) -> String { value.map { String(format: "%.2f", $0) } ?? "n/a" }
    static func percent(_ value: Double?) -> String { value.map { "\(Int(($0 * 100).rounded()))%" } ?? "n/a" }
}
