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
    }
}

/// Lexical and semantic evidence together, weighed by the learned `KeyPointMatcher` (trained on ArgKP).
///
/// A statement makes a rubric item when the matcher's probability reaches `rubricThreshold`, or when lexical
/// matching alone makes it (its score rescaled so that the lexical threshold maps onto this one): hybrid only
/// adds matches that lexical matching misses. An item whose head is a title ("Clean Code") keeps the lexical
/// rule: it is made only by naming the title. Two statements pair on the mean of the matcher's probability both
/// ways (each as the point of the other), or on their lexical score rescaled likewise.
public struct HybridSimilarity: SimilarityModel {
    public var name: String { "hybrid" }
    public var encoder: any SentenceEncoder
    public var matcher: KeyPointMatcher
    public var lexical: LexicalSimilarity
    public var clusterThreshold: Double
    public var rubricThreshold: Double
    /// Pairs whose embedding cosine is below this are not scored by the matcher (candidate generation).
    public var candidateCosine: Double

    public init(encoder: any SentenceEncoder, matcher: KeyPointMatcher = .miniLM, lexical: LexicalSimilarity = LexicalSimilarity(),
                clusterThreshold: Double = 0.5, rubricThreshold: Double = 0.5, candidateCosine: Double = 0.45) {
        self.encoder = encoder
        self.matcher = matcher
        self.lexical = lexical
        self.clusterThreshold = clusterThreshold
        self.rubricThreshold = rubricThreshold
        self.candidateCosine = candidateCosine
    }

    public func prepare(_ input: SimilarityInput) -> any PreparedSimilarity {
        let vectors = encoder.encode(input.statements + input.rubricItems)
        let space = LexicalSpace(statements: input.statements, rubricItems: input.rubricItems, prompt: input.prompt)
        return Prepared(model: self, lexical: lexical.prepare(input), space: space,
                        statements: Array(vectors[..<input.statements.count]),
                        items: Array(vectors[input.statements.count...]), answerOf: input.answerOfStatement,
                        titles: input.rubricItems.map { RubricPhrase($0).isTitle })
    }

    struct Prepared: PreparedSimilarity {
        let model: HybridSimilarity
        let lexical: any PreparedSimilarity
        let space: LexicalSpace
        let statements: [[Float]]
        let items: [[Float]]
        let answerOf: [Int]
        let titles: [Bool]

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

        private func matcherScore(_ statement: [Float], _ sv: LexicalSpace.Vector, point: [Float], _ pv: LexicalSpace.Vector) -> Double {
            model.matcher.score(MatchEvidence(statement: statement, point: point,
                                              lexicalCosine: LexicalSpace.cosine(sv, pv),
                                              coverage: LexicalSpace.coverage(of: pv, by: sv)))
        }

        func similarity(_ a: Int, _ b: Int) -> Double {
            let va = space.statements[a], vb = space.statements[b]
            let semantic = (matcherScore(statements[a], va, point: statements[b], vb)
                + matcherScore(statements[b], vb, point: statements[a], va)) / 2
            let lexicalScore = lexical.similarity(a, b) * model.clusterThreshold / model.lexical.clusterThreshold
            return min(1, max(semantic, lexicalScore))
        }

        func rubricCandidates(item: Int) -> [Int] {
            titles[item] ? lexical.rubricCandidates(item: item) : Array(statements.indices)
        }

        func rubricScore(item: Int, statement: Int) -> Double {
            let lexicalScore = lexical.rubricScore(item: item, statement: statement)
            if titles[item] { return min(1, lexicalScore * model.rubricThreshold / model.lexical.rubricThreshold) }
            let semantic = matcherScore(statements[statement], space.statements[statement], point: items[item],
                                        space.rubricItems[item])
            return min(1, max(semantic, lexicalScore * model.rubricThreshold / model.lexical.rubricThreshold))
        }
    }
}
