import ConvergeCore

/// An output format for a `Report`.
///
/// - `md`: Markdown (CommonMark with GFM tables), the default human-readable output; see `MarkdownRenderer`.
/// - `json`: report JSON, schema version 1 (`schema/report-v1.json`); see `JSONRenderer`.
/// - `csv`: one row per key point, one column per answering panelist (RFC 4180); see `CSVRenderer`.
/// - `html`: one self-contained HTML page (inline CSS and SVG, no script); see `HTMLRenderer`.
public enum ReportFormat: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case md, json, csv, html

    /// Parses a format name: `md`, `markdown`, `json`, `csv`, `html` or `htm`, in any letter case.
    public init?(rawValue: String) {
        switch rawValue.lowercased() {
        case "md", "markdown": self = .md
        case "json": self = .json
        case "csv": self = .csv
        case "html", "htm": self = .html
        default: return nil
        }
    }

    /// The usual file name extension for the format, without the dot.
    public var fileExtension: String { rawValue }

    /// The media type of the format (`text/markdown`, `application/json`, `text/csv`, `text/html`), UTF-8.
    public var mediaType: String {
        switch self {
        case .md: "text/markdown; charset=utf-8"
        case .json: "application/json"
        case .csv: "text/csv; charset=utf-8; header=present"
        case .html: "text/html; charset=utf-8"
        }
    }

    public var description: String { rawValue }
}

/// Renders a `Report` in any `ReportFormat`.
///
/// Rendering is a pure function of the report: equal reports give byte-identical output.
public enum ReportRenderer {
    /// The report as text in `format`; every format ends with a line break. The HTML page shows the answers
    /// only when the report carries them (`turns`; see `Report.attachingAnswers(_:)`).
    public static func render(_ report: Report, format: ReportFormat) -> String {
        switch format {
        case .md: MarkdownRenderer.render(report)
        case .json: JSONRenderer.render(report)
        case .csv: CSVRenderer.render(report)
        case .html: HTMLRenderer.render(report)
        }
    }
}
