/// Group centroids for `PreparedSimilarity.relatedness`: the cosine of two groups' centroids, dense (sentence
/// embeddings, centred on the panel's mean so that the topic every statement shares does not make everything
/// look related) or sparse (TF-IDF vectors). Sums are in Double and cosines rounded to 1e-9, so that the result
/// does not depend on the order of the statements.
enum ThemeSpace {
    /// Cosines of the centred centroids of `rows` and of `columns` (`[row][column]`): each vector is first centred
    /// on the mean of all `vectors`, computed once for both sides.
    static func relatedness(_ vectors: [[Float]], _ rows: [[Int]], _ columns: [[Int]]) -> [[Double]] {
        guard let width = vectors.first?.count else { return rows.map { _ in columns.map { _ in 0 } } }
        var mean = [Double](repeating: 0, count: width)
        for v in vectors { for k in 0..<width { mean[k] += Double(v[k]) } }
        for k in 0..<width { mean[k] /= Double(vectors.count) }
        func centroids(_ groups: [[Int]]) -> [[Double]] {
            groups.map { group in
                var c = [Double](repeating: 0, count: width)
                for s in group { for k in 0..<width { c[k] += Double(vectors[s][k]) - mean[k] } }
                return unit(c)
            }
        }
        return cosines(centroids(rows), centroids(columns))
    }

    /// Unit centroids of `groups` of sparse vectors (each vector first scaled to unit length), as (feature,
    /// weight) entries sorted by feature.
    static func centroids(_ vectors: [LexicalSpace.Vector], groups: [[Int]]) -> [[(Int, Double)]] {
        groups.map { group in
            var c: [Int: Double] = [:]
            for s in group {
                let norm = vectors[s].norm
                guard norm > 0 else { continue }
                for (f, w) in vectors[s].entries { c[f, default: 0] += w / norm }
            }
            let entries = c.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
            let norm = entries.reduce(0) { $0 + $1.1 * $1.1 }.squareRoot()
            return norm > 0 ? entries.map { ($0.0, $0.1 / norm) } : entries
        }
    }

    static func cosines(_ rows: [[Double]], _ columns: [[Double]]) -> [[Double]] {
        rows.map { r in
            columns.map { c in
                guard r.count == c.count else { return 0 }
                var sum = 0.0
                for k in r.indices { sum += r[k] * c[k] }
                return rounded(sum)
            }
        }
    }

    static func cosines(_ rows: [[(Int, Double)]], _ columns: [[(Int, Double)]]) -> [[Double]] {
        rows.map { r in
            columns.map { c in
                // A merge of the two sorted lists: summed in feature order.
                var i = 0, j = 0, sum = 0.0
                while i < r.count, j < c.count {
                    if r[i].0 == c[j].0 {
                        sum += r[i].1 * c[j].1
                        i += 1
                        j += 1
                    } else if r[i].0 < c[j].0 { i += 1 } else { j += 1 }
                }
                return rounded(sum)
            }
        }
    }

    private static func unit(_ v: [Double]) -> [Double] {
        let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return norm > 0 ? v.map { $0 / norm } : v
    }

    private static func rounded(_ x: Double) -> Double { (x * 1e9).rounded() / 1e9 }
}
