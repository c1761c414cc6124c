import ConvergeCore

/// Renders a report's key points as CSV (RFC 4180).
///
/// Shape: one header record, then one record per key point in report order:
///
/// ```
/// key_point,label,category,consensus,support,<label of answering panelist 1>,<label of panelist 2>,...
/// kp-1,5+ years of experience,Experience,majority,2,typically backed by 5+ years of dedicated experience,,"having 5+ years, ..."
/// ```
///
/// - `key_point`: the key point id; `label`; `category` (empty when none); `consensus`: `unanimous`,
///   `majority`, `split` or `unique`; `support`: the number of supporting panelists (out of the number of
///   panelist columns; a bare count, so that spreadsheets do not read `2/3` as a date).
/// - One column per panelist that answered, in panel order, headed by its label (`label (id)` when two
///   answering panelists share a label). A cell holds that panelist's first evidence quote for the key
///   point, exactly as in the answer (line breaks kept), and is empty when the panelist does not support it.
///
/// Encoding follows RFC 4180: records end with CRLF (the last one too); a field containing a comma, a double
/// quote, CR or LF is enclosed in double quotes, and a double quote inside it is doubled.
///
/// Cells come from model answers, so a cell that a spreadsheet would run as a formula (it starts with `=`,
/// `+`, `-`, `@`, TAB or CR) gets a leading apostrophe, which spreadsheets show as text (OWASP, "CSV
/// Injection"). Nothing else is altered: without that apostrophe every cell matches the JSON report.
public enum CSVRenderer {
    public static func render(_ report: Report) -> String {
        let answered = report.answered
        var labelCounts: [String: Int] = [:]
        for panelist in answered { labelCounts[panelist.label, default: 0] += 1 }
        let panelHeaders = answered.map { labelCounts[$0.label, default: 0] > 1 ? "\($0.label) (\($0.id))" : $0.label }

        var records: [[String]] = [["key_point", "label", "category", "consensus", "support"] + panelHeaders]
        for keyPoint in report.keyPoints {
            let supporters = Set(keyPoint.support)
            var record = [keyPoint.id, keyPoint.label, keyPoint.category ?? "", keyPoint.consensus.rawValue,
                          String(supporters.count)]
            for panelist in answered {
                guard supporters.contains(panelist.id) else {
                    record.append("")
                    continue
                }
                record.append(keyPoint.evidence.first { $0.panelist == panelist.id }?.quote ?? "")
            }
            records.append(record)
        }
        return records.map { $0.map { field(neutralized($0)) }.joined(separator: ",") + "\r\n" }.joined()
    }

    /// `value` with a leading apostrophe when a spreadsheet would read it as a formula (see above).
    static func neutralized(_ value: String) -> String {
        guard let first = value.unicodeScalars.first, ["=", "+", "-", "@", "\t", "\r"].contains(first) else {
            return value
        }
        return "'" + value
    }

    /// One field, quoted when it contains a comma, a double quote, CR or LF (RFC 4180, section 2).
    ///
    /// Works on Unicode scalars, so a double quote followed by a combining mark is still doubled.
    static func field(_ value: String) -> String {
        let needsQuotes = value.unicodeScalars.contains { $0 == "," || $0 == "\"" || $0 == "\r" || $0 == "\n" }
        guard needsQuotes else { return value }
        var quoted = String.UnicodeScalarView()
        quoted.append("\"")
        for scalar in value.unicodeScalars {
            quoted.append(scalar)
            if scalar == "\"" { quoted.append(scalar) }
        }
        quoted.append("\"")
        return String(quoted)
    }
}
