import ConvergeCore
import Foundation

/// Paths of the repository and the shared corpora, found from this file's location.
enum Paths {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let example = repo.appendingPathComponent("examples/senior-backend")
    /// `../shared/corpus` beside the repository (or `$CONVERGE_CORPUS`).
    static let corpus: URL = {
        if let env = ProcessInfo.processInfo.environment["CONVERGE_CORPUS"] { return URL(fileURLWithPath: env) }
        return repo.deletingLastPathComponent().appendingPathComponent("shared/corpus")
    }()
}

extension Array where Element == Unicode.Scalar {
    func slice(_ start: Int, _ end: Int) -> String { String(String.UnicodeScalarView(self[start..<end])) }
}

/// Checks the quote contract: every quote equals the answer's scalars between its offsets.
func quoteViolations(_ report: Report, answers: [String: String]) -> [String] {
    var violations: [String] = []
    let scalars = answers.mapValues { Array($0.unicodeScalars) }
    func check(_ panelist: String, _ quote: String, _ start: Int, _ end: Int, _ place: String) {
        guard let text = scalars[panelist] else { violations.append("\(place): unknown panelist \(panelist)"); return }
        guard 0 <= start, start < end, end <= text.count else {
            violations.append("\(place): offsets \(start)..<\(end) out of range"); return
        }
        if text.slice(start, end) != quote { violations.append("\(place): quote \(quote.debugDescription) differs") }
    }
    for point in report.keyPoints { for e in point.evidence { check(e.panelist, e.quote, e.start, e.end, point.id) } }
    for term in report.terms { for e in term.evidence { check(e.panelist, e.quote, e.start, e.end, term.text) } }
    for conflict in report.conflicts {
        for v in conflict.values { check(v.panelist, v.quote, v.start, v.end, conflict.topic) }
    }
    for item in report.rubric?.items ?? [] {
        for e in item.evidence { check(e.panelist, e.quote, e.start, e.end, item.id) }
    }
    for filler in report.filler ?? [] {
        let e = filler.evidence
        check(e.panelist, e.quote, e.start, e.end, "filler")
    }
    return violations
}

/// Invariants every report must hold, whatever its input.
func invariantViolations(_ report: Report) -> [String] {
    var violations: [String] = []
    let ids = Set(report.answered.map(\.id))
    let n = ids.count
    for point in report.keyPoints {
        if Set(point.support).count != point.support.count { violations.append("\(point.id): repeated supporter") }
        if !Set(point.support).isSubset(of: ids) { violations.append("\(point.id): support outside the panel") }
        if point.support.isEmpty { violations.append("\(point.id): no support") }
        if point.consensus != ConsensusLevel(support: point.support.count, panelSize: n) {
            violations.append("\(point.id): consensus \(point.consensus) for \(point.support.count)/\(n)")
        }
        if Set(point.evidence.map(\.panelist)) != Set(point.support) {
            violations.append("\(point.id): evidence and support differ")
        }
    }
    for term in report.terms where !Set(term.support).isSubset(of: ids) {
        violations.append("term \(term.text): support outside the panel")
    }
    if !(0...1).contains(report.convergence.index) { violations.append("index \(report.convergence.index)") }
    for (a, row) in report.convergence.pairwise {
        for (b, value) in row where !(0...1).contains(value) || value != report.convergence.pairwise[b]?[a] {
            violations.append("pairwise \(a),\(b) = \(value)")
        }
    }
    return violations
}
