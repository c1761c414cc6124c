import ConvergeCore

/// Joins the statements that clustering left on their own to the point their block makes, so that a panelist's
/// list item (a lead-in, its explanation, its example) is one key point and not three.
///
/// Clustering (`KeyPointClusterer`) pairs statements across answers only; the statements of one answer that
/// nobody else echoes stay singletons. Here, within each Markdown block (a list item, a paragraph, or a heading
/// that names a point together with the paragraph under it):
/// - in a list item or a block with a lead-in, which makes one point by the answer's own structure, a singleton
///   joins the clustered statement of its block that it is most similar to (the lead-in's when it is the
///   lead-in's body), and when nothing of the block is clustered, the block's statements form one key point;
/// - in a plain paragraph, which may make several points, a singleton joins a statement of its paragraph only
///   when their similarity reaches `paragraphFactor` × the model's cluster threshold.
/// Statements of different answers are never joined here, nor statements of one block more than `window`
/// statements apart. Deterministic; O(n · window) for n statements.
struct BlockJoiner {
    let statements: [Statement]
    let similarity: any PreparedSimilarity
    /// The similarity model's cluster threshold (its scale).
    let threshold: Double
    var paragraphFactor = 0.6
    /// How far apart (in statements) two statements of one block may be and still be joined here, which keeps a
    /// block of thousands of statements (a 200 KB answer in one paragraph) linear: O(n · window).
    var window = 24
    /// `PointBlocks.of(statements)`: the block whose point each statement explains.
    let pointBlock: [[Int]]

    /// The first position in the sorted `values` whose value is at least `bound` (binary search).
    static func firstIndex(in values: [Int], notBelow bound: Int) -> Int {
        var (low, high) = (0, values.count)
        while low < high {
            let mid = (low + high) / 2
            if values[mid] < bound { low = mid + 1 } else { high = mid }
        }
        return low
    }

    func join(_ clusters: [[Int]]) -> [[Int]] {
        var members = clusters
        var clusterOf: [Int: Int] = [:]
        for (c, group) in clusters.enumerated() { for s in group { clusterOf[s] = c } }

        // Statements by block; a heading that names a point shares its block with the paragraph under it.
        var blocks: [[Int]: [Int]] = [:]
        for s in clusterOf.keys { blocks[pointBlock[s], default: []].append(s) }

        func move(_ s: Int, to target: Int) {
            let from = clusterOf[s]!
            guard from != target else { return }
            members[from].removeAll { $0 == s }
            members[target].append(s)
            clusterOf[s] = target
        }

        for key in blocks.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            let block = blocks[key]!.sorted()
            guard block.count > 1 else { continue }
            let singles = block.filter { members[clusterOf[$0]!].count == 1 }
            guard !singles.isEmpty else { continue }
            let joined = block.filter { members[clusterOf[$0]!].count > 1 }
            let makesOnePoint = block.contains { statements[$0].isLeadIn }
                || statements[block[0]].blockKind == .listItem || statements[block[0]].blockKind == .tableRow
            let minimum = makesOnePoint ? -Double.infinity : threshold * paragraphFactor
            var unjoined: [Int] = []
            let leadIns = joined.filter { statements[$0].isLeadIn }
            for s in singles {
                var best: (target: Int, score: Double)?
                // Candidates: the block's lead-ins, and its clustered statements at most `window` statements away.
                let near = joined[Self.firstIndex(in: joined, notBelow: s - window)..<Self.firstIndex(in: joined, notBelow: s + window + 1)]
                for t in leadIns + near.filter({ !statements[$0].isLeadIn }) {
                    let score = similarity.similarity(s, t)
                    // A lead-in names the point of the whole block: its body goes with it.
                    let bonus = statements[t].isLeadIn ? 1.0 : 0.0
                    if score >= minimum, best == nil || score + bonus > best!.score {
                        best = (t, score + bonus)
                    }
                }
                if let best { move(s, to: clusterOf[best.target]!) } else { unjoined.append(s) }
            }
            guard unjoined.count > 1 else { continue }
            if makesOnePoint && joined.isEmpty {
                for s in unjoined.dropFirst() { move(s, to: clusterOf[unjoined[0]]!) }
            } else {
                // Paragraph singletons join an earlier singleton of the paragraph they are similar to.
                for (n, s) in unjoined.enumerated() where n > 0 {
                    var best: (target: Int, score: Double)?
                    for t in unjoined[max(0, n - window)..<n] {
                        let score = similarity.similarity(s, t)
                        if score >= threshold * paragraphFactor, best == nil || score > best!.score { best = (t, score) }
                    }
                    if let best { move(s, to: clusterOf[best.target]!) }
                }
            }
        }
        return mergeNamedPoints(members.filter { !$0.isEmpty }.map { $0.sorted() }).sorted { $0[0] < $1[0] }
    }

    /// Key points of lead-ins that are the same point as the key point of their bodies: when, for at least half
    /// of the smaller group's panelists, a lead-in of one group and a statement of the other share a block, and
    /// the groups' best pair reaches `paragraphFactor` × the threshold, they are one point ("Use a Sharp Knife"
    /// across answers, and "A sharp knife requires less force" across the same answers). By structure alone (no
    /// similarity needed) when every panelist of the lead-ins explains them with the other group and that group
    /// holds no lead-in of its own. Never when both groups hold a lead-in of one answer: two items that one answer
    /// names apart ("**Carbohydrates**:", "**Fats**:") are two points by its own account (a cannot-link, as in
    /// `KeyPointMerger`); without it, nested named items chained into one key point of a dozen points.
    func mergeNamedPoints(_ groups: [[Int]]) -> [[Int]] {
        var members = groups
        var changed = true
        var rounds = 0
        while changed && rounds < 8 {
            changed = false
            rounds += 1
            var leadBlocks: [[Int]: Int] = [:]  // block of a lead-in -> its group
            for (g, group) in members.enumerated() {
                for s in group where statements[s].isLeadIn { leadBlocks[pointBlock[s]] = g }
            }
            var pairs: [Int64: Set<Int>] = [:]  // (lead group, body group) -> answers where they share a block
            for (g, group) in members.enumerated() {
                for s in group where !statements[s].isLeadIn {
                    if let lead = leadBlocks[pointBlock[s]], lead != g {
                        pairs[KeyPointClusterer.key(lead, g), default: []].insert(statements[s].answerIndex)
                    }
                }
            }
            for key in pairs.keys.sorted() {
                let (x, y) = (Int(key >> 32), Int(key & 0xFFFF_FFFF))
                guard !members[x].isEmpty, !members[y].isEmpty else { continue }
                let ax = Set(members[x].map { statements[$0].answerIndex })
                let ay = Set(members[y].map { statements[$0].answerIndex })
                guard min(ax.count, ay.count) >= 2, pairs[key]!.count * 2 >= min(ax.count, ay.count) else { continue }
                // Every panelist of the lead-ins explains them with the other group: the answers' structure says
                // it is one point, whatever the words ("**Keep a schedule**: go to bed ... at the same time").
                // (`key` orders the pair, so either group may hold the lead-ins.)
                func leadAnswers(_ g: Int) -> Set<Int> {
                    Set(members[g].filter { statements[$0].isLeadIn }.map { statements[$0].answerIndex })
                }
                let (leadsX, leadsY) = (leadAnswers(x), leadAnswers(y))
                guard leadsX.isDisjoint(with: leadsY) else { continue }
                let named = [(leadsX, leadsY), (leadsY, leadsX)].contains { leads, otherLeads in
                    leads.count >= 2 && pairs[key]!.isSuperset(of: leads) && otherLeads.isEmpty
                }
                if !named {
                    var top = 0.0
                    for a in members[x].prefix(64) {
                        for b in members[y].prefix(64) { top = max(top, similarity.similarity(a, b)) }
                    }
                    guard top >= threshold * paragraphFactor else { continue }
                }
                members[x] += members[y]
                members[y] = []
                changed = true
            }
            members = members.filter { !$0.isEmpty }
        }
        return members.map { $0.sorted() }
    }
}
