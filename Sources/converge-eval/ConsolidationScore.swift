import ConvergeCore
import Foundation

// The consolidation measures of `../shared/tools/consolidation-score`, implemented again in Swift.
//
// The items being clustered are (panelist, point) pairs: who makes which point. A report groups them into key
// points (a key point's support), the gold groups them into gold key points (the panelists with a mention).
// Precision and recall are the B-cubed measures over those items: for each item, the share of its cluster that
// it shares with its cluster in the other clustering, averaged over items (Bagga & Baldwin 1998, "Algorithms
// for scoring coreference chains"; Amigó, Gonzalo, Artiles & Verdejo 2009, "A comparison of extrinsic
// clustering evaluation metrics based on formal constraints", which shows B-cubed is the one of the common
// measures that satisfies all four of their constraints). The other measures are the script's own: support
// agreement on points two or more panelists make, false agreement, filler and the key point count.

/// One exact span of an answer: `quote` should equal the answer's Unicode scalars `start..<end` (the report
/// JSON schema's offsets: code point indices, end exclusive, `answer[start:end] == quote` in Python).
struct ScoredEvidence: Sendable, Equatable {
    var panelist: String
    var quote: String
    var start: Int
    var end: Int
}

/// A report key point as the scorer reads it: its label, its support (panelist ids; duplicates count once)
/// and its evidence spans (of any panelist, in or out of the support).
struct ScoredKeyPoint: Sendable, Equatable {
    var label: String
    var support: [String]
    var evidence: [ScoredEvidence]
}

/// A consolidation gold (`gold.json`, ANNOTATION.md in the corpus): key points with every place each panelist
/// makes them, as exact quotes. Ids are unique (`ConsolidationFiles.gold` checks it).
struct ConsolidationGold: Sendable, Equatable {
    struct Mention: Sendable, Equatable {
        var panelist: String
        var quote: String
    }
    struct Point: Sendable, Equatable {
        var id: String
        var label: String
        var mentions: [Mention]
        /// The editor's category (ANNOTATION.md rule 8), if given.
        var category: String? = nil
    }
    var points: [Point]
}

/// A gold whose quotes have been found in the answers: for each panelist, the spans of its mentions, each
/// with the index of its gold point.
///
/// Order matters for ties (an evidence span overlapping two mentions equally counts for the first): gold
/// points in file order, then a panelist's mentions of one point in file order, as the script iterates.
struct LocatedGold: Sendable, Equatable {
    struct Span: Sendable, Equatable {
        var start: Int
        var end: Int
        var point: Int
    }
    /// Gold point ids, in file order.
    var ids: [String]
    /// The supporters of each gold point (the panelists with at least one mention), by point index.
    var support: [Set<String>]
    /// Mention spans by panelist id.
    var spans: [String: [Span]]
    /// The category of each gold point, by point index.
    var categories: [String?]

    /// Why a gold cannot be located: which mention (`keyPoints[i].mentions[j]`) and what is wrong.
    struct Problem: Error, Sendable, Equatable {
        var field: String
        var message: String
    }

    /// Finds every mention's quote in its panelist's answer: the first occurrence, in Unicode scalars (what
    /// Python's `str.find` gives).
    ///
    /// - Parameter answers: answer text by panelist id.
    /// - Throws: `Problem` for a mention of a panelist without an answer, or a quote the answer does not hold.
    init(_ gold: ConsolidationGold, answers: [String: String]) throws(Problem) {
        let scalars = answers.mapValues { Array($0.unicodeScalars) }
        ids = gold.points.map(\.id)
        categories = gold.points.map(\.category)
        support = []
        spans = [:]
        for (g, point) in gold.points.enumerated() {
            var supporters = Set<String>()
            for (m, mention) in point.mentions.enumerated() {
                let field = "keyPoints[\(g)].mentions[\(m)]"
                guard let text = scalars[mention.panelist] else {
                    throw Problem(field: field + ".panelist",
                                  message: "`\(mention.panelist)` has no answer in the folder (answers: "
                                      + answers.keys.sorted().joined(separator: ", ") + ")")
                }
                let quote = Array(mention.quote.unicodeScalars)
                guard let start = PythonText.find(quote, in: text) else {
                    throw Problem(field: field + ".quote",
                                  message: "gold quote not found in \(mention.panelist)'s answer: "
                                      + PythonText.repr(String(String.UnicodeScalarView(quote.prefix(60)))))
                }
                spans[mention.panelist, default: []].append(Span(start: start, end: start + quote.count, point: g))
                supporters.insert(mention.panelist)
            }
            support.append(supporters)
        }
    }
}

/// The measures of one report against one gold, with the script's `--json` keys.
struct ConsolidationScore: Sendable, Equatable, Codable {
    /// B-cubed precision: mean over report items (key point k, panelist p in its support) of the share of k's
    /// support grouped with p on p's best gold point in k; 0 when p's evidence in k hits no gold mention.
    var precision: Double
    /// B-cubed recall: mean over gold items (point g, supporter p) of the share of g's supporters grouped
    /// with p in the report key point that holds p's mention of g and groups most of g; 0 when none holds it.
    var recall: Double
    /// Harmonic mean of precision and recall (0 when both are 0).
    var f1: Double
    /// Over gold points with two or more supporters: mean of the best Jaccard similarity between the support
    /// of a report key point that hits the point and the point's supporters (1 when there are none).
    var convRecall: Double
    /// The share of those gold points matched with Jaccard 1 (at least 0.999).
    var convExact: Double
    /// Share of report key points with support of two or more in which no two panelists hit one common gold
    /// point (0 when there are none).
    var falseConv: Double
    /// Share of report key points none of whose evidence hits a gold mention.
    var filler: Double
    /// Report key points per gold key point.
    var ratio: Double
    var reportKeyPoints: Int
    var goldKeyPoints: Int
    /// Gold points with two or more supporters.
    var goldConvergent: Int
    /// Evidence quotes equal to their answer's scalars between their offsets, and all evidence spans.
    var quotesExact: Int
    var quotes: Int

    enum CodingKeys: String, CodingKey {
        case precision, recall, f1, filler, ratio, quotes
        case convRecall = "conv_recall", convExact = "conv_exact", falseConv = "false_conv"
        case reportKeyPoints = "report_kps", goldKeyPoints = "gold_kps", goldConvergent = "gold_convergent"
        case quotesExact = "quotes_exact"
    }

    /// The script's summary line: `NAME: F1 0.724 (P 0.800 R 0.661); conv-recall ... exact ... of N;
    /// false-conv ...; filler ...; key points R/G (xR.RR); quotes E/Q`.
    func line(_ name: String) -> String {
        "\(name): F1 \(f3(f1)) (P \(f3(precision)) R \(f3(recall))); conv-recall \(f3(convRecall)) "
            + "exact \(f3(convExact)) of \(goldConvergent); false-conv \(f3(falseConv)); filler \(f3(filler)); "
            + "key points \(reportKeyPoints)/\(goldKeyPoints) (x\(String(format: "%.2f", ratio))); "
            + "quotes \(quotesExact)/\(quotes)"
    }
}

/// A report key point that the script's `-v` lists: filler (no evidence hits the gold) or false agreement.
struct FlaggedKeyPoint: Sendable, Equatable, Codable {
    enum Tag: String, Sendable, Codable {
        case filler = "FILLER"
        case falseConvergence = "FALSE-CONV"
    }
    var tag: Tag
    var support: Int
    var label: String
    /// Ids of the gold points its evidence hits, sorted by code point.
    var goldPoints: [String]

    /// The script's `-v` line: two spaces, the tag padded to 10, the support count, the first 90 scalars of
    /// the label as a Python literal, and the gold ids as a Python list.
    var line: String {
        let label = String(String.UnicodeScalarView(Array(self.label.unicodeScalars).prefix(90)))
        return "  \(tag.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)) \(support) "
            + "\(PythonText.repr(label)) -> [\(goldPoints.map(PythonText.repr).joined(separator: ", "))]"
    }
}

/// The mean of each measure over several folders (each folder weighs the same).
struct ConsolidationMean: Sendable, Equatable, Codable {
    var folders: Int
    var f1: Double
    var precision: Double
    var recall: Double
    var convRecall: Double
    var convExact: Double
    var falseConv: Double
    var filler: Double
    var ratio: Double

    enum CodingKeys: String, CodingKey {
        case folders, f1, precision, recall, filler, ratio
        case convRecall = "conv_recall", convExact = "conv_exact", falseConv = "false_conv"
    }

    /// The means of `scores` (all 0 when it is empty).
    init(_ scores: [ConsolidationScore]) {
        func mean(_ value: (ConsolidationScore) -> Double) -> Double {
            scores.isEmpty ? 0 : scores.map(value).reduce(0, +) / Double(scores.count)
        }
        folders = scores.count
        f1 = mean(\.f1)
        precision = mean(\.precision)
        recall = mean(\.recall)
        convRecall = mean(\.convRecall)
        convExact = mean(\.convExact)
        falseConv = mean(\.falseConv)
        filler = mean(\.filler)
        ratio = mean(\.ratio)
    }

    /// `MEAN over N: F1 ... (P ... R ...); conv-recall ... exact ...; false-conv ...; filler ...; key points xR.RR`.
    var line: String {
        "MEAN over \(folders): F1 \(f3(f1)) (P \(f3(precision)) R \(f3(recall))); conv-recall \(f3(convRecall)) "
            + "exact \(f3(convExact)); false-conv \(f3(falseConv)); filler \(f3(filler)); "
            + "key points x\(String(format: "%.2f", ratio))"
    }
}

private func f3(_ value: Double) -> String { String(format: "%.3f", value) }

/// Scores report key points against a located gold, exactly as `consolidation-score` does. Pure.
enum ConsolidationScorer {
    /// One (panelist, gold point index) item that a key point's evidence hits.
    private struct Hit: Hashable {
        var panelist: String
        var point: Int
    }

    /// Whether two spans align: they overlap by at least half of the shorter one (and by something).
    static func aligned(_ a: (start: Int, end: Int), _ b: (start: Int, end: Int)) -> Bool {
        let overlap = min(a.end, b.end) - max(a.start, b.start)
        return overlap > 0 && 2 * overlap >= min(a.end - a.start, b.end - b.start)
    }

    /// The gold point an evidence span counts for: the one whose mention of the same panelist it overlaps most
    /// among those it aligns with (ties: the first in gold order), or nil.
    static func point(of panelist: String, _ start: Int, _ end: Int, in gold: LocatedGold) -> Int? {
        var best: Int?, bestOverlap = 0
        for span in gold.spans[panelist] ?? [] where aligned((start, end), (span.start, span.end)) {
            let overlap = min(end, span.end) - max(start, span.start)
            if overlap > bestOverlap { best = span.point; bestOverlap = overlap }
        }
        return best
    }

    /// How many of `keyPoint`'s evidence spans hit each gold point (by point index; evidence that hits none is
    /// left out), aligned as `point(of:_:_:in:)` aligns one span.
    static func goldHits(_ keyPoint: Report.KeyPoint, in gold: LocatedGold) -> [Int: Int] {
        var hits: [Int: Int] = [:]
        for evidence in keyPoint.evidence {
            if let point = point(of: evidence.panelist, evidence.start, evidence.end, in: gold) { hits[point, default: 0] += 1 }
        }
        return hits
    }

    /// The measures of an analysis's report against `gold` (its key points as its report JSON gives them).
    static func score(_ report: Report, gold: LocatedGold, answers: [String: String])
        -> (score: ConsolidationScore, flagged: [FlaggedKeyPoint]) {
        score(ConsolidationFiles.reportKeyPoints(report), gold: gold, answers: answers)
    }

    /// The measures of `keyPoints` (a report's, in order) against `gold`, and the key points the script's `-v`
    /// flags.
    ///
    /// Each evidence span counts for the one gold point whose aligned mention (same panelist) it overlaps
    /// most, the first on ties; a key point's hits are the (panelist, gold point) items so found.
    ///
    /// - Parameter answers: answer text by panelist id (for the quote check; a panelist without an answer has
    ///   the empty text, so its quotes are wrong unless empty).
    static func score(_ keyPoints: [ScoredKeyPoint], gold: LocatedGold, answers: [String: String])
        -> (score: ConsolidationScore, flagged: [FlaggedKeyPoint]) {
        let scalars = answers.mapValues { Array($0.unicodeScalars) }
        var quotes = 0, wrong = 0
        // Per report key point: its support, its hits, and how many of its hits each gold point has.
        var items: [(label: String, support: Set<String>, hits: Set<Hit>, grouped: [Int: Int])] = []
        for keyPoint in keyPoints {
            var hits = Set<Hit>()
            for evidence in keyPoint.evidence {
                quotes += 1
                let text = scalars[evidence.panelist] ?? []
                if !PythonText.slice(text, evidence.start, evidence.end).elementsEqual(evidence.quote.unicodeScalars) {
                    wrong += 1
                }
                if let best = point(of: evidence.panelist, evidence.start, evidence.end, in: gold) {
                    hits.insert(Hit(panelist: evidence.panelist, point: best))
                }
            }
            var grouped: [Int: Int] = [:]
            for hit in hits { grouped[hit.point, default: 0] += 1 }
            items.append((keyPoint.label, Set(keyPoint.support), hits, grouped))
        }

        // B-cubed precision over report items (k, p in support(k)).
        var precision: [Double] = []
        for item in items {
            for panelist in item.support {
                let points = item.hits.filter { $0.panelist == panelist }.map(\.point)
                let best = points.map { item.grouped[$0] ?? 0 }.max()
                precision.append(best.map { Double($0) / Double(item.support.count) } ?? 0)
            }
        }
        // B-cubed recall over gold items (g, p in support(g)).
        var recall: [Double] = []
        for (g, supporters) in gold.support.enumerated() {
            for panelist in supporters {
                var best = 0
                for item in items where item.hits.contains(Hit(panelist: panelist, point: g)) {
                    best = max(best, item.grouped[g] ?? 0)
                }
                recall.append(Double(best) / Double(supporters.count))
            }
        }
        let p = mean(precision), r = mean(recall)
        let f1 = p + r > 0 ? 2 * p * r / (p + r) : 0

        // Support agreement on gold points made by two or more.
        var agreement: [Double] = []
        for (g, supporters) in gold.support.enumerated() where supporters.count >= 2 {
            var best = 0.0
            for item in items where (item.grouped[g] ?? 0) > 0 {
                let jaccard = Double(item.support.intersection(supporters).count)
                    / Double(item.support.union(supporters).count)
                best = max(best, jaccard)
            }
            agreement.append(best)
        }

        var multi = 0, falseAgreement = 0, filler = 0
        var flagged: [FlaggedKeyPoint] = []
        for item in items {
            let largest = item.grouped.values.max() ?? 0
            let isFalse = item.support.count >= 2 && largest < 2
            if item.support.count >= 2 {
                multi += 1
                if isFalse { falseAgreement += 1 }
            }
            if item.hits.isEmpty { filler += 1 }
            if item.hits.isEmpty || isFalse {
                let ids = Set(item.hits.map { gold.ids[$0.point] })
                    .sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }
                flagged.append(FlaggedKeyPoint(tag: item.hits.isEmpty ? .filler : .falseConvergence,
                                               support: item.support.count, label: item.label, goldPoints: ids))
            }
        }

        let score = ConsolidationScore(
            precision: p, recall: r, f1: f1,
            convRecall: agreement.isEmpty ? 1 : mean(agreement),
            convExact: agreement.isEmpty ? 1 : Double(agreement.filter { $0 >= 0.999 }.count) / Double(agreement.count),
            falseConv: multi > 0 ? Double(falseAgreement) / Double(multi) : 0,
            filler: items.isEmpty ? 0 : Double(filler) / Double(items.count),
            ratio: gold.ids.isEmpty ? 0 : Double(items.count) / Double(gold.ids.count),
            reportKeyPoints: items.count, goldKeyPoints: gold.ids.count, goldConvergent: agreement.count,
            quotesExact: quotes - wrong, quotes: quotes)
        return (score, flagged)
    }

    private static func mean(_ values: [Double]) -> Double {
        values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count)
    }
}

/// Python's string semantics where the script relies on them, over Unicode scalars (Python `str` is a
/// sequence of code points; Swift's `String ==` would compare canonically equivalent texts as equal).
enum PythonText {
    /// `text[start:end]`: negative indices count from the end, then both are clamped to `0...count`.
    static func slice(_ text: [Unicode.Scalar], _ start: Int, _ end: Int) -> ArraySlice<Unicode.Scalar> {
        func clamp(_ i: Int) -> Int { min(max(i < 0 ? i + text.count : i, 0), text.count) }
        let s = clamp(start), e = clamp(end)
        return s < e ? text[s..<e] : []
    }

    /// `text.find(needle)`: the scalar index of the first occurrence, or nil (Python's -1).
    static func find(_ needle: [Unicode.Scalar], in text: [Unicode.Scalar]) -> Int? {
        guard needle.count <= text.count else { return nil }
        guard let first = needle.first else { return 0 }
        var i = 0
        while i <= text.count - needle.count {
            if text[i] == first && text[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }

    /// `repr(text)`: single quotes unless the text holds a single quote and no double quote; backslash, the
    /// quote and `\t \n \r` escaped; other non-printable scalars (controls, format, surrogates, private use,
    /// unassigned, separators other than the space) as `\xhh`, `\uhhhh` or `\Uhhhhhhhh`.
    static func repr(_ text: String) -> String {
        let quote: Unicode.Scalar = text.unicodeScalars.contains("'") && !text.unicodeScalars.contains("\"")
            ? "\"" : "'"
        var out = String(quote)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case quote: out += "\\" + String(quote)
            case "\t": out += "\\t"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            default:
                if isPrintable(scalar) {
                    out.unicodeScalars.append(scalar)
                } else {
                    let hex = String(scalar.value, radix: 16)
                    let width = scalar.value < 0x100 ? 2 : scalar.value < 0x10000 ? 4 : 8
                    let prefix = width == 2 ? "\\x" : width == 4 ? "\\u" : "\\U"
                    out += prefix + String(repeating: "0", count: width - hex.count) + hex
                }
            }
        }
        return out + String(quote)
    }

    /// Python's `str.isprintable` for one scalar.
    private static func isPrintable(_ scalar: Unicode.Scalar) -> Bool {
        if scalar == " " { return true }
        switch scalar.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned,
             .lineSeparator, .paragraphSeparator, .spaceSeparator:
            return false
        default:
            return true
        }
    }
}
