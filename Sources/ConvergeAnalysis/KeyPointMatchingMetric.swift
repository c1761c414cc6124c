import Foundation

/// The KPA-2021 shared task, track 1 metric (Friedman et al., "Overview of the 2021 Key Point Analysis Shared
/// Task", ArgMining 2021), in its two versions: each argument keeps its best-scoring key point; within each
/// topic-and-stance group the top half of arguments by that score are kept (⌊n/2⌋); the group's score is the
/// average precision of that ranked list (`Variant.leaderboard`, what the shared task's leaderboard used), or
/// that AP times the share of positives in the list (`Variant.current`, the repository's scoring script since
/// September 2021); the mean over groups. Strict counts an unlabelled (argument, key point) pair as a
/// non-match, relaxed as a match.
public enum KeyPointMatchingMetric {
    /// Which version of the track 1 metric.
    public enum Variant: String, Sendable, CaseIterable {
        /// AP of the kept list times its share of positives (the KPA script as it stands).
        case current
        /// AP of the kept list alone (the metric of the shared task's leaderboard).
        case leaderboard

        /// How `kpa-score` names it.
        public var label: String {
            switch self {
            case .current: "current metric (AP x share of positives)"
            case .leaderboard: "leaderboard metric (AP)"
            }
        }
    }

    /// Strict and relaxed mAP of both variants.
    public struct Scores: Sendable, Equatable {
        public var current: (strict: Double, relaxed: Double)
        public var leaderboard: (strict: Double, relaxed: Double)

        public subscript(_ variant: Variant) -> (strict: Double, relaxed: Double) {
            variant == .current ? current : leaderboard
        }

        public static func == (l: Scores, r: Scores) -> Bool {
            l.current == r.current && l.leaderboard == r.leaderboard
        }

        /// Two lines, one per variant: `current metric (...): mAP strict=X relaxed=Y`.
        public var summary: String {
            Variant.allCases.map { v in
                "\(v.label): mAP strict=\(Self.format(self[v].strict)) relaxed=\(Self.format(self[v].relaxed))"
            }.joined(separator: "\n")
        }

        static func format(_ x: Double) -> String { String(format: "%.3f", x) }
    }

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

    /// The score of one topic-and-stance group: AP of the top half, times its share of positives for
    /// `.current`.
    public static func groupScore(_ choices: [Choice], relaxed: Bool, variant: Variant = .current) -> Double {
        let order = choices.indices.sorted { (choices[$0].score, -$0) > (choices[$1].score, -$1) }
        let kept = order.prefix(choices.count / 2).map { (score: choices[$0].score, positive: choices[$0].label ?? relaxed) }
        guard !kept.isEmpty else { return 0 }
        let share = Double(kept.filter(\.positive).count) / Double(kept.count)
        return averagePrecision(kept) * (variant == .current ? share : 1)
    }

    /// Mean over groups of `groupScore`, strict and relaxed, of one variant.
    public static func meanAveragePrecision(_ groups: [[Choice]], variant: Variant = .current) -> (strict: Double, relaxed: Double) {
        guard !groups.isEmpty else { return (0, 0) }
        let strict = groups.map { groupScore($0, relaxed: false, variant: variant) }.reduce(0, +) / Double(groups.count)
        let relaxed = groups.map { groupScore($0, relaxed: true, variant: variant) }.reduce(0, +) / Double(groups.count)
        return (strict, relaxed)
    }

    /// Both variants.
    public static func scores(_ groups: [[Choice]]) -> Scores {
        Scores(current: meanAveragePrecision(groups, variant: .current),
               leaderboard: meanAveragePrecision(groups, variant: .leaderboard))
    }
}
