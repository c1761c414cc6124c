import ConvergeCore
import Foundation

/// How a report's categories agree with the gold's (ANNOTATION.md rule 8): B-cubed precision, recall and F1
/// (Bagga & Baldwin 1998; Amigó et al. 2009) over the report's key points whose evidence hits a gold point, each
/// item's true class being the category of the gold point most of its evidence hits (ties: the first in gold
/// order) and its predicted class the report's category; key points without a category are one class
/// ("uncategorised"), so a report without categories scores what one big group scores. Converge's own measure,
/// not the shared script's.
struct CategoryAgreement: Sendable, Equatable, Codable {
    var precision: Double
    var recall: Double
    var f1: Double
    /// Categories in the report (uncategorised key points not counted) and in the gold.
    var categories: Int
    var goldCategories: Int

    init(_ report: Report, gold: LocatedGold) {
        var predicted: [String] = [], truth: [String] = []
        for keyPoint in report.keyPoints {
            let hits = ConsolidationScorer.goldHits(keyPoint, in: gold)
            guard let point = hits.keys.sorted().max(by: { hits[$0]! < hits[$1]! }) else { continue }
            predicted.append(keyPoint.category ?? "\u{0}uncategorised")
            truth.append(gold.categories[point] ?? "\u{0}none")
        }
        var p = 0.0, r = 0.0
        for i in predicted.indices {
            let samePredicted = predicted.indices.filter { predicted[$0] == predicted[i] }
            let sameTruth = truth.indices.filter { truth[$0] == truth[i] }
            let both = samePredicted.filter { truth[$0] == truth[i] }.count
            p += Double(both) / Double(samePredicted.count)
            r += Double(both) / Double(sameTruth.count)
        }
        let n = Double(max(predicted.count, 1))
        precision = p / n
        recall = r / n
        f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0
        categories = Set(report.keyPoints.compactMap(\.category)).count
        goldCategories = Set(gold.categories.compactMap { $0 }).count
    }

    /// `categories: B-cubed F1 ... (P ... R ...); N themes (gold M)`.
    func line(_ name: String) -> String {
        "\(name) categories: F1 \(f3(f1)) (P \(f3(precision)) R \(f3(recall))); \(categories) themes (gold \(goldCategories))"
    }

    private func f3(_ x: Double) -> String { String(format: "%.3f", x) }
}
