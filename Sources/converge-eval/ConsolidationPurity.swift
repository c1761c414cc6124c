import ConvergeCore

/// Whether each key point of a report is one gold point or several run together: cluster purity (Manning,
/// Raghavan & Schütze 2008, section 16.3) over the key points' evidence that hits a gold point, i.e. the share of
/// that evidence hitting its own key point's most-hit gold point (1 when no key point mixes gold points; a key
/// point that mixes them counts in proportion to its evidence). Evidence is aligned to gold points as the shared
/// script aligns it (`ConsolidationScorer.goldHits`). B-cubed precision (`ConsolidationScore`) is computed per
/// panelist, so a key point holding many gold points, each made by every panelist, costs it little; purity shows
/// it. Converge's own measure, not the shared script's.
struct KeyPointPurity: Sendable, Equatable, Codable {
    /// Evidence-weighted purity, 0...1 (1 when no evidence hits a gold point).
    var purity: Double
    /// The most distinct gold points that one key point's evidence hits.
    var mostGoldPoints: Int

    init(_ report: Report, gold: LocatedGold) {
        var majority = 0, hitting = 0, most = 0
        for keyPoint in report.keyPoints {
            let hits = ConsolidationScorer.goldHits(keyPoint, in: gold)
            majority += hits.values.max() ?? 0
            hitting += hits.values.reduce(0, +)
            most = max(most, hits.count)
        }
        purity = hitting == 0 ? 1 : Double(majority) / Double(hitting)
        mostGoldPoints = most
    }
}
