import ConvergeAnalysis
import Testing

/// The KPA-2021 track 1 metric on small cases computed by hand.
struct KeyPointMatchingMetricTests {
    typealias C = KeyPointMatchingMetric.Choice

    @Test func averagePrecisionByHand() {
        // Ranked T, F, T: precision 1/1 at the first positive, 2/3 at the second.
        #expect(abs(KeyPointMatchingMetric.averagePrecision([(3, true), (2, false), (1, true)]) - (1 + 2.0 / 3) / 2) < 1e-12)
        #expect(KeyPointMatchingMetric.averagePrecision([(1, false)]) == 0)
        // Input order does not matter, only the scores.
        #expect(abs(KeyPointMatchingMetric.averagePrecision([(1, true), (3, true), (2, false)]) - (1 + 2.0 / 3) / 2) < 1e-12)
    }

    @Test func meanAveragePrecisionByHand() {
        // Group 1: top half = 0.9 (match), 0.8 (unlabelled). Strict: AP 1 x share 1/2; relaxed: AP 1 x share 1.
        let g1 = [C(score: 0.9, label: true), C(score: 0.8, label: nil), C(score: 0.3, label: false), C(score: 0.1, label: true)]
        // Group 2: three arguments, top half is one: 0.7, a non-match. 0 either way.
        let g2 = [C(score: 0.2, label: true), C(score: 0.7, label: false), C(score: 0.5, label: true)]
        // Group 3: top half 0.9 (no), 0.8 (yes): AP 1/2 x share 1/2 = 1/4.
        let g3 = [C(score: 0.9, label: false), C(score: 0.8, label: true), C(score: 0.1, label: false), C(score: 0.2, label: false)]
        #expect(abs(KeyPointMatchingMetric.groupScore(g1, relaxed: false) - 0.5) < 1e-12)
        #expect(abs(KeyPointMatchingMetric.groupScore(g1, relaxed: true) - 1) < 1e-12)
        #expect(KeyPointMatchingMetric.groupScore(g2, relaxed: true) == 0)
        #expect(abs(KeyPointMatchingMetric.groupScore(g3, relaxed: false) - 0.25) < 1e-12)
        let map = KeyPointMatchingMetric.meanAveragePrecision([g1, g2, g3])
        #expect(abs(map.strict - 0.75 / 3) < 1e-12)
        #expect(abs(map.relaxed - 1.25 / 3) < 1e-12)
    }

    /// The leaderboard metric is the AP alone: group 1 scores 1 strict (the unlabelled pair ranks below the
    /// match), group 3 scores 1/2, group 2 0.
    @Test func leaderboardMetricIsAveragePrecisionAlone() {
        let g1 = [C(score: 0.9, label: true), C(score: 0.8, label: nil), C(score: 0.3, label: false), C(score: 0.1, label: true)]
        let g2 = [C(score: 0.2, label: true), C(score: 0.7, label: false), C(score: 0.5, label: true)]
        let g3 = [C(score: 0.9, label: false), C(score: 0.8, label: true), C(score: 0.1, label: false), C(score: 0.2, label: false)]
        #expect(KeyPointMatchingMetric.groupScore(g1, relaxed: false, variant: .leaderboard) == 1)
        #expect(abs(KeyPointMatchingMetric.groupScore(g3, relaxed: false, variant: .leaderboard) - 0.5) < 1e-12)
        let scores = KeyPointMatchingMetric.scores([g1, g2, g3])
        #expect(abs(scores.leaderboard.strict - 1.5 / 3) < 1e-12)
        #expect(abs(scores.leaderboard.relaxed - 1.5 / 3) < 1e-12)
        #expect(abs(scores.current.strict - 0.75 / 3) < 1e-12)
        #expect(scores.summary == """
            current metric (AP x share of positives): mAP strict=0.250 relaxed=0.417
            leaderboard metric (AP): mAP strict=0.500 relaxed=0.500
            """)
    }
}
