/// Agglomerative clustering of statements into key points, with average linkage and a threshold.
///
/// Candidate edges are the cross-answer pairs whose similarity reaches `threshold`; they are taken from the
/// most similar down, and two clusters merge when the mean similarity over their cross-answer member pairs
/// reaches `linkThreshold` (average linkage, as in UPGMA, Sokal & Michener 1958). Clusters stop growing at
/// `maxClusterSize` statements, which bounds the cost of a merge test; the whole run is
/// O(E log E + E · maxClusterSize²) for E candidate edges. Deterministic: ties break on `rank`, a canonical
/// order of the statements (by content, so that the clusters do not depend on the order of the answers).
public struct KeyPointClusterer: Sendable {
    public var threshold: Double
    public var linkThreshold: Double
    public var maxClusterSize: Int

    public init(threshold: Double, linkThreshold: Double? = nil, maxClusterSize: Int = 48) {
        self.threshold = threshold
        self.linkThreshold = linkThreshold ?? threshold * 0.8
        self.maxClusterSize = maxClusterSize
    }

    /// Clusters `members` (statement indices).
    ///
    /// - Parameters:
    ///   - members: the statements to cluster.
    ///   - answerOf: answer index of every statement (indexed by statement).
    ///   - similarity: the prepared model (pairs and pairwise similarity).
    ///   - rank: a canonical position of every statement (indexed by statement), used to break ties between
    ///     equal scores and to fix the summation order of average linkage; default: statement order.
    /// - Returns: clusters as sorted statement index lists, ordered by their first statement; every member
    ///   is in exactly one cluster (singletons included).
    public func cluster(_ members: [Int], answerOf: [Int], similarity: any PreparedSimilarity, rank: [Int]? = nil) -> [[Int]] {
        let memberSet = Set(members)
        let rank = rank ?? Array(0..<answerOf.count)
        func ranked(_ edge: ScoredPair) -> (Double, Int, Int) {
            let (x, y) = (rank[edge.a], rank[edge.b])
            return (edge.score, -min(x, y), -max(x, y))
        }
        let edges = similarity.pairs(minimum: threshold)
            .filter { memberSet.contains($0.a) && memberSet.contains($0.b) }
            .sorted { ranked($0) > ranked($1) }
        var known: [Int64: Double] = [:]
        for edge in edges { known[Self.key(edge.a, edge.b)] = edge.score }

        var parent: [Int: Int] = [:]
        var clusterMembers: [Int: [Int]] = [:]
        for m in members { parent[m] = m; clusterMembers[m] = [m] }
        func find(_ x: Int) -> Int {
            var root = x
            while parent[root]! != root { root = parent[root]! }
            var node = x
            while parent[node]! != root { let next = parent[node]!; parent[node] = root; node = next }
            return root
        }
        for edge in edges {
            let ra = find(edge.a), rb = find(edge.b)
            guard ra != rb else { continue }
            let a = clusterMembers[ra]!.sorted { rank[$0] < rank[$1] }
            let b = clusterMembers[rb]!.sorted { rank[$0] < rank[$1] }
            guard a.count + b.count <= maxClusterSize else { continue }
            var sum = 0.0, count = 0
            for x in a {
                for y in b where answerOf[x] != answerOf[y] {
                    sum += known[Self.key(x, y)] ?? similarity.similarity(x, y)
                    count += 1
                }
            }
            guard count > 0, sum / Double(count) >= linkThreshold else { continue }
            let (root, child) = rank[ra] < rank[rb] ? (ra, rb) : (rb, ra)
            parent[child] = root
            clusterMembers[root]! += clusterMembers[child]!
            clusterMembers[child] = nil
        }
        return clusterMembers.values.map { $0.sorted() }.sorted { $0[0] < $1[0] }
    }

    static func key(_ a: Int, _ b: Int) -> Int64 {
        let (x, y) = a < b ? (a, b) : (b, a)
        return Int64(x) << 32 | Int64(y)
    }
}
