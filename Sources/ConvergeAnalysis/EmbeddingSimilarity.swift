import ConvergeCore

/// Semantic similarity: the cosine of sentence embeddings (`SentenceEncoder`), clipped to [0, 1], for statement
/// pairs and for rubric items alike. Pairs are all cross-answer pairs (a dot product each: quadratic in the
/// number of statements, but 384 multiply-adds per pair keeps a panel of a few thousand statements under a
/// second).
public struct EmbeddingSimilarity: SimilarityModel {
    public var name: String { "embedding" }
    public var encoder: any SentenceEncoder
    public var clusterThreshold: Double
    public var rubricThreshold: Double

    public init(encoder: any SentenceEncoder, clusterThreshold: Double = 0.72, rubricThreshold: Double = 0.62) {
        self.encoder = encoder
        self.clusterThreshold = clusterThreshold
        self.rubricThreshold = rubricThreshold
    }

    public var sentenceEncoder: (any SentenceEncoder)? { encoder }

    public func replacingSentenceEncoder(_ encoder: any SentenceEncoder) -> any SimilarityModel {
        var copy = self
        copy.encoder = encoder
        return copy
    }

    public func prepare(_ input: SimilarityInput) -> any PreparedSimilarity {
        let vectors = encoder.encode(input.statements + input.rubricItems)
        return Prepared(statements: Array(vectors[..<input.statements.count]),
                        items: Array(vectors[input.statements.count...]), answerOf: input.answerOfStatement)
    }

    struct Prepared: PreparedSimilarity {
        let statements: [[Float]]
        let items: [[Float]]
        let answerOf: [Int]

        func pairs(minimum: Double) -> [ScoredPair] {
            var result: [ScoredPair] = []
            for i in statements.indices {
                for j in (i + 1)..<statements.count where answerOf[i] != answerOf[j] {
                    let s = similarity(i, j)
                    if s >= minimum { result.append(ScoredPair(a: i, b: j, score: s)) }
                }
            }
            return result
        }

        func similarity(_ a: Int, _ b: Int) -> Double { min(1, max(0, Double(dot(statements[a], statements[b])))) }
        func rubricCandidates(item: Int) -> [Int] { Array(statements.indices) }
        func rubricScore(item: Int, statement: Int) -> Double {
            min(1, max(0, Double(dot(items[item], statements[statement]))))
        }

        func relatedness(_ rows: [[Int]], _ columns: [[Int]]) -> [[Double]] {
            ThemeSpace.relatedness(statements, rows, columns)
        }
    }
}

/// Lexical and semantic evidence together, weighed by the learned `KeyPointMatcher` (trained on ArgKP).
///
/// A statement makes a rubric item when the item is the statement's best by the matcher (its candidate points
/// being all the rubric's items) and the matcher's probability reaches `rubricThreshold`, or when lexical
/// matching alone makes it (its score rescaled so that
/// the lexical threshold maps onto this one): hybrid only adds matches that lexical matching misses. An item
/// whose head is a title ("Clean Code") keeps the lexical rule: it is made only by naming the title. Two
/// statements pair on the mean of the matcher's probability both ways (each as a point the other may make,
/// the candidates being all statements), or on their lexical score rescaled likewise. Preparing costs one
/// embedding per statement and item and O(n²) dot products for n statements.
public struct HybridSimilarity: SimilarityModel {
    public var name: String { "hybrid" }
    public var encoder: any SentenceEncoder
    public var matcher: KeyPointMatcher
    public var lexical: LexicalSimilarity
    public var clusterThreshold: Double
    public var rubricThreshold: Double
    /// Pairs whose embedding cosine is below this are not scored by the matcher (candidate generation).
    public var candidateCosine: Double

    /// `matcher` defaults to the one fitted over `encoder`'s vectors (`KeyPointMatcher.fitted(for:)`).
    public init(encoder: any SentenceEncoder, matcher: KeyPointMatcher? = nil, lexical: LexicalSimilarity = LexicalSimilarity(),
                clusterThreshold: Double = 0.98, rubricThreshold: Double = 0.9, candidateCosine: Double = 0.4) {
        self.encoder = encoder
        self.matcher = matcher ?? .fitted(for: encoder)
        self.lexical = lexical
        self.clusterThreshold = clusterThreshold
        self.rubricThreshold = rubricThreshold
        self.candidateCosine = candidateCosine
    }

    public var sentenceEncoder: (any SentenceEncoder)? { encoder }

    public func replacingSentenceEncoder(_ encoder: any SentenceEncoder) -> any SimilarityModel {
        var copy = self
        copy.encoder = encoder
        return copy
    }

    public func prepare(_ input: SimilarityInput) -> any PreparedSimilarity {
        let vectors = encoder.encode(input.statements + input.rubricItems)
        let space = LexicalSpace(statements: input.statements, rubricItems: input.rubricItems, prompt: input.prompt)
        let statements = Array(vectors[..<input.statements.count])
        let items = Array(vectors[input.statements.count...])
        // Mean embedding and TF-IDF cosine of every statement to the vectors `vs`/`lvs` (itself left out when
        // `excludingSelf`), as the dot product with their sum: O((n + m) · d) for n statements and m vectors, where
        // a product per pair was quadratic (a 200 KB answer spent minutes here). Sums in Double; the analysis hands
        // the statements over in a canonical order, so the sums do not depend on the order of the answers.
        func means(_ vs: [[Float]], _ lvs: [LexicalSpace.Vector], excludingSelf: Bool) -> (cos: [Double], lex: [Double]) {
            let count = vs.count - (excludingSelf ? 1 : 0)
            guard count > 0 else { return (statements.map { _ in 0 }, statements.map { _ in 0 }) }
            var sum = [Double](repeating: 0, count: statements.first?.count ?? 0)
            for v in vs { for k in v.indices where k < sum.count { sum[k] += Double(v[k]) } }
            let width = (lvs.compactMap { $0.entries.last?.0 }.max() ?? -1) + 1
            var lexicalSum = [Double](repeating: 0, count: width)
            for b in lvs where b.norm > 0 { for (f, w) in b.entries { lexicalSum[f] += w / b.norm } }
            var cos: [Double] = [], lex: [Double] = []
            for (i, v) in statements.enumerated() {
                var c = 0.0
                for k in v.indices where k < sum.count { c += Double(v[k]) * sum[k] }
                let a = space.statements[i]
                var l = 0.0
                if a.norm > 0 {
                    for (f, w) in a.entries where f < width { l += w * lexicalSum[f] }
                    l /= a.norm
                }
                if excludingSelf {
                    c -= Double(dot(v, v))
                    l -= LexicalSpace.cosine(a, a)
                }
                cos.append(c / Double(count))
                lex.append(l / Double(count))
            }
            return (cos, lex)
        }
        return Prepared(model: self, lexical: lexical.prepare(input), space: space, statements: statements, items: items,
                        answerOf: input.answerOfStatement, titles: input.rubricItems.map { RubricPhrase($0).isTitle },
                        itemMeans: means(items, space.rubricItems, excludingSelf: false),
                        statementMeans: means(statements, space.statements, excludingSelf: true), bestItem: [])
            .withBestItems()
    }

    struct Prepared: PreparedSimilarity, MatchEvidenceSource {
        let model: HybridSimilarity
        let lexical: any PreparedSimilarity
        let space: LexicalSpace
        let statements: [[Float]]
        let items: [[Float]]
        let answerOf: [Int]
        let titles: [Bool]
        /// Per statement: mean embedding and TF-IDF cosine to the rubric items, and to the other statements.
        let itemMeans: (cos: [Double], lex: [Double])
        let statementMeans: (cos: [Double], lex: [Double])
        /// For each statement, the rubric item the matcher scores highest (titles included), or -1.
        var bestItem: [Int]

        func withBestItems() -> Prepared {
            var copy = self
            copy.bestItem = statements.indices.map { s in
                var best = -1, bestScore = -Double.infinity
                for i in items.indices where semanticScore(item: i, statement: s) > bestScore {
                    best = i
                    bestScore = semanticScore(item: i, statement: s)
                }
                return best
            }
            return copy
        }

        /// The matcher's probability that `statement` makes rubric item `item`, among all the rubric's items.
        func semanticScore(item: Int, statement: Int) -> Double {
            let sv = space.statements[statement], iv = space.rubricItems[item]
            return model.matcher.score(MatchEvidence(
                cosine: Double(dot(statements[statement], items[item])), lexicalCosine: LexicalSpace.cosine(sv, iv),
                coverage: LexicalSpace.coverage(of: iv, by: sv),
                meanCosine: itemMeans.cos[statement], meanLexicalCosine: itemMeans.lex[statement]))
        }

        func pairs(minimum: Double) -> [ScoredPair] {
            var scored: [Int: ScoredPair] = [:]
            let n = statements.count
            for pair in lexical.pairs(minimum: minimum * model.lexical.clusterThreshold / model.clusterThreshold) {
                let s = similarity(pair.a, pair.b)
                if s >= minimum { scored[pair.a * n + pair.b] = ScoredPair(a: pair.a, b: pair.b, score: s) }
            }
            for i in 0..<n {
                for j in (i + 1)..<n where answerOf[i] != answerOf[j] && scored[i * n + j] == nil {
                    guard Double(dot(statements[i], statements[j])) >= model.candidateCosine else { continue }
                    let s = similarity(i, j)
                    if s >= minimum { scored[i * n + j] = ScoredPair(a: i, b: j, score: s) }
                }
            }
            return Array(scored.values)
        }

        func evidence(_ a: Int, makes b: Int) -> MatchEvidence {
            let va = space.statements[a], vb = space.statements[b]
            return MatchEvidence(
                cosine: Double(dot(statements[a], statements[b])), lexicalCosine: LexicalSpace.cosine(va, vb),
                coverage: LexicalSpace.coverage(of: vb, by: va),
                meanCosine: statementMeans.cos[a], meanLexicalCosine: statementMeans.lex[a])
        }

        func lexicalScore(_ a: Int, _ b: Int) -> Double {
            lexical.similarity(a, b) * model.clusterThreshold / model.lexical.clusterThreshold
        }

        /// The matcher's probability that statement `a` makes statement `b`'s point.
        private func makes(_ a: Int, _ b: Int) -> Double { model.matcher.score(evidence(a, makes: b)) }

        func similarity(_ a: Int, _ b: Int) -> Double {
            let semantic = (makes(a, b) + makes(b, a)) / 2
            return min(1, max(semantic, lexicalScore(a, b)))
        }

        func rubricCandidates(item: Int) -> [Int] {
            titles[item] ? lexical.rubricCandidates(item: item) : Array(statements.indices)
        }

        /// The embedding relatedness (the matcher's probabilities say "same point", not "same theme").
        func relatedness(_ rows: [[Int]], _ columns: [[Int]]) -> [[Double]] {
            ThemeSpace.relatedness(statements, rows, columns)
        }

        func rubricScore(item: Int, statement: Int) -> Double {
            let lexicalScore = lexical.rubricScore(item: item, statement: statement)
            let rescaled = min(1, lexicalScore * model.rubricThreshold / model.lexical.rubricThreshold)
            // Semantic evidence counts for the statement's best item only (as each ArgKP argument keeps its
            // best key point), and never for a title, which must be named.
            guard !titles[item], bestItem[statement] == item else { return rescaled }
            return max(semanticScore(item: item, statement: statement), rescaled)
        }
    }
}

/// The evidence behind a prepared hybrid similarity's pair scores, for measuring and refitting the matcher on
/// statement pairs (`converge-eval consolidation --pairs`): `similarity(a, b)` is
/// `min(1, max((p(a, b) + p(b, a)) / 2, lexicalScore(a, b)))` with `p` the matcher's probability of `evidence`.
public protocol MatchEvidenceSource {
    /// The evidence that statement `a` makes statement `b`'s point (the mean cosines are `a`'s over all statements).
    func evidence(_ a: Int, makes b: Int) -> MatchEvidence
    /// The lexical model's similarity of the pair, rescaled to the hybrid's threshold.
    func lexicalScore(_ a: Int, _ b: Int) -> Double
}
