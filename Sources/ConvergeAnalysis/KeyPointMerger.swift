/// Merges key points that different panelists make in different words: the second, looser pass of clustering.
///
/// The first pass (`KeyPointClusterer`, then `BlockJoiner`) forms tight groups: statements that say nearly the
/// same thing, and the statements of one list item. Two such groups are one key point when their single linkage
/// (the similarity of their best cross-answer statement pair) reaches `linkThreshold` **and** no panelist is in
/// both: two points of one answer are different points by that
/// answer's own account (a cannot-link constraint, as in constrained clustering, Wagstaff et al. 2001), which is
/// what keeps this pass from running distinct ideas together. Merges go from the best linkage down.
///
/// Candidate pairs of groups come from the model's own candidate statement pairs (`pairs(minimum:)`), so the
/// cost stays near the model's: O(P + G² · m²) for P candidate pairs, G groups linked by them and groups of at
/// most m statements. Deterministic: ties break on the groups' first statement.
struct KeyPointMerger {
    var minimum: Double
    var linkThreshold: Double
    var maxMembers = 64

    func merge(_ groups: [[Int]], panelistOf: [Int], answerOf: [Int], similarity: any PreparedSimilarity) -> [[Int]] {
        var members = groups
        var groupOf: [Int: Int] = [:]
        for (g, group) in groups.enumerated() { for s in group { groupOf[s] = g } }
        var panelists = groups.map { Set($0.map { panelistOf[$0] }) }
        var known: [Int64: Double] = [:]
        var candidates = Set<Int64>()
        for pair in similarity.pairs(minimum: minimum) {
            known[KeyPointClusterer.key(pair.a, pair.b)] = pair.score
            guard let x = groupOf[pair.a], let y = groupOf[pair.b], x != y else { continue }
            candidates.insert(KeyPointClusterer.key(x, y))
        }
        /// Single linkage: the best cross-answer pair (two groups that each explain a point share its best words).
        func linkage(_ x: Int, _ y: Int) -> Double {
            var top = 0.0
            // At most `maxMembers` statements of each side are compared, which bounds the cost of a merge test.
            for a in members[x].prefix(maxMembers) {
                for b in members[y].prefix(maxMembers) where answerOf[a] != answerOf[b] {
                    top = max(top, known[KeyPointClusterer.key(a, b)] ?? similarity.similarity(a, b))
                }
            }
            return top
        }
        var scores: [Int64: Double] = [:]
        for key in candidates {
            let (x, y) = (Int(key >> 32), Int(key & 0xFFFF_FFFF))
            if panelists[x].isDisjoint(with: panelists[y]) { scores[key] = linkage(x, y) }
        }
        while true {
            var best: (key: Int64, score: Double)?
            for (key, score) in scores where score >= linkThreshold {
                if best == nil || score > best!.score || (score == best!.score && key < best!.key) { best = (key, score) }
            }
            guard let chosen = best else { break }
            let (x, y) = (Int(chosen.key >> 32), Int(chosen.key & 0xFFFF_FFFF))
            members[x] += members[y]
            members[y] = []
            panelists[x].formUnion(panelists[y])
            // Re-score the survivor's candidate pairs; drop the absorbed group's.
            var next: [Int64: Double] = [:]
            for key in scores.keys {
                let (a, b) = (Int(key >> 32), Int(key & 0xFFFF_FFFF))
                let (p, q) = (a == y ? x : a, b == y ? x : b)
                guard p != q else { continue }
                let merged = KeyPointClusterer.key(p, q)
                if p == x || q == x {
                    let other = p == x ? q : p
                    if next[merged] == nil, panelists[x].isDisjoint(with: panelists[other]) {
                        next[merged] = linkage(x, other)
                    }
                } else {
                    next[merged] = scores[key]
                }
            }
            scores = next
        }
        return members.filter { !$0.isEmpty }.map { $0.sorted() }.sorted { $0[0] < $1[0] }
    }
}
