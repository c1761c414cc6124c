/// The KPA-2021 shared task, track 1 metric (Friedman et al., "Overview of the 2021 Key Point Analysis Shared
/// Task", ArgMining 2021), as the Converge issue defines it: each argument keeps its best-scoring key point;
/// within each topic-and-stance group the top half of arguments by that score are kept (⌊n/2⌋); the average
/// precision of that ranked list, times the share of positives in it; the mean over groups. Strict counts an
/// unlabelled (argument, key point) pair as a non-match, relaxed as a match.
public enum KeyPointMatchingMetric {
    /// One argument's best key point: its score and label (`nil` when the pair is unlabelled).
    public struct Choice: Sendable {
        public var score: Double
        public var label: Bool?
        public init(score: Double, label: Bool?) {
            self.score = score
            self.label = label
        }
    }

    /// Average precision of `labels` ranked by descending score (ties keep input order): the mean of the
    /// precision at each positive's rank; 0 when there is no positive.
    public static func averagePrecision(_ ranked: [(score: Double, positive: Bool)]) -> Double {
        let order = ranked.indices.sorted { (ranked[$0].score, -$0) > (ranked[$1].score, -$1) }
        var hits = 0, total = 0.0
        for (rank, i) in order.enumerated() where ranked[i].positive {
            hits += 1
            total += Double(hits) / Double(rank + 1)
        }
        return hits == 0 ? 0 : total / Double(hits)
    }

    /// The score of one topic-and-stance group: AP of the top half times its share of positives.
    public static func groupScore(_ choices: [Choice], relaxed: Bool) -> Double {
        let order = choices.indices.sorted { (choices[$0].score, -$0) > (choices[$1].score, -$1) }
        let kept = order.prefix(choices.count / 2).map { (score: choices[$0].score, positive: choices[$0].label ?? relaxed) }
        guard !kept.isEmpty else { return 0 }
        let share = Double(kept.filter(\.positive).count) / Double(kept.count)
        return averagePrecision(kept) * share
    }

    /// Mean over groups of `groupScore`, strict and relaxed.
    public static func meanAveragePrecision(_ groups: [[Choice]]) -> (strict: Double, relaxed: Double) {
        guard !groups.isEmpty else { return (0, 0) }
        let strict = groups.map { groupScore($0, relaxed: false) }.reduce(0, +) / Double(groups.count)
        let relaxed = groups.map { groupScore($0, relaxed: true) }.reduce(0, +) / Double(groups.count)
        return (strict, relaxed)
    }
}
