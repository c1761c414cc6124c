import ConvergeCore

/// The convergence index (ARCHITECTURE.md, "Terms"): the mean, over unordered pairs of answering panelists, of the Jaccard
/// similarity |A ∩ B| / |A ∪ B| of the key point sets A and B that they support (Jaccard 1912). Two panelists
/// that support no key point at all share nothing that can be compared (0). Values are rounded to 4 decimals.
public enum ConvergenceIndex {
    public static func compute(keyPoints: [Report.KeyPoint], panelists: [String]) -> Report.Convergence {
        var supported: [String: Set<String>] = [:]
        for id in panelists { supported[id] = [] }
        for point in keyPoints { for id in point.support { supported[id, default: []].insert(point.id) } }
        var pairwise: [String: [String: Double]] = [:]
        var sum = 0.0
        var pairs = 0
        for (i, a) in panelists.enumerated() {
            for (j, b) in panelists.enumerated() {
                let value: Double
                if i == j {
                    value = 1
                } else {
                    let sa = supported[a]!, sb = supported[b]!
                    let union = sa.union(sb).count
                    value = union == 0 ? 0 : Double(sa.intersection(sb).count) / Double(union)
                    if i < j { sum += value; pairs += 1 }
                }
                pairwise[a, default: [:]][b] = rounded(value)
            }
        }
        return Report.Convergence(index: pairs == 0 ? 0 : rounded(sum / Double(pairs)), pairwise: pairwise)
    }

    static func rounded(_ value: Double) -> Double { (value * 10_000).rounded() / 10_000 }
}
