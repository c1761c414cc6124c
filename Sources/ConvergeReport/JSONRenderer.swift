import ConvergeCore
import Foundation

/// Renders a report as report JSON, schema version 1 (`schema/report-v1.json`, RFC 8259).
///
/// The document is exactly what `Report`'s `Codable` conformance gives, encoded with
/// `JSONEncoder` options `[.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]`, followed by one `\n`:
///
/// ```json
/// {
///   "conflicts" : [ ... ],
///   "convergence" : { "index" : 0.5, "pairwise" : { ... } },
///   "keyPoints" : [ ... ],
///   "omissions" : [ ... ],
///   "panelists" : [ ... ],
///   "prompt" : null,
///   "rubric" : null,
///   "schemaVersion" : 1,
///   "terms" : [ ... ]
/// }
/// ```
///
/// Keys are sorted at every level, so equal reports give byte-identical output. Fields that schema v1 gives
/// as `str|null` are always present (as `null` when absent); `analysis` is present only when set.
/// `JSONDecoder().decode(Report.self, from:)` reads the output back to an equal `Report`.
public enum JSONRenderer {
    /// The encoder used for report JSON.
    public static func makeEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// The report as pretty-printed, key-sorted JSON with a trailing newline.
    ///
    /// JSON has no NaN or infinity: a non-finite convergence value (which the analysis never produces) is
    /// written as `0` so that the output is always valid JSON; use `encode(_:)` to be told instead.
    public static func render(_ report: Report) -> String {
        if let text = try? encode(report) { return text }
        var report = report
        report.convergence.index = finite(report.convergence.index)
        report.convergence.pairwise = report.convergence.pairwise.mapValues { $0.mapValues(finite) }
        // Every value left is representable in JSON, so encoding cannot fail any more.
        return (try? encode(report)) ?? "{}\n"
    }

    /// The report as pretty-printed, key-sorted JSON with a trailing newline.
    ///
    /// - Throws: `EncodingError.invalidValue` when a number is NaN or infinite.
    public static func encode(_ report: Report) throws -> String {
        let data = try makeEncoder().encode(report)
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    private static func finite(_ value: Double) -> Double { value.isFinite ? value : 0 }
}
