import ConvergeAnalysis
import ConvergeCore
import Foundation
import Synchronization

/// A similarity model in front of another that keeps what the last `prepare` was given and made, so that
/// `consolidation --pairs` can read the statements and the matcher's evidence behind one analysis.
final class RecordingSimilarity: SimilarityModel {
    let base: any SimilarityModel
    private let last = Mutex<(SimilarityInput, any PreparedSimilarity)?>(nil)

    init(_ base: any SimilarityModel) { self.base = base }

    var name: String { base.name }
    var clusterThreshold: Double { base.clusterThreshold }
    var rubricThreshold: Double { base.rubricThreshold }
    var mergeThreshold: Double? { base.mergeThreshold }
    var sentenceEncoder: (any SentenceEncoder)? { base.sentenceEncoder }

    func prepare(_ input: SimilarityInput) -> any PreparedSimilarity {
        let prepared = base.prepare(input)
        last.withLock { $0 = (input, prepared) }
        return prepared
    }

    /// The input and prepared model of the last `prepare`, and forgets them.
    func take() -> (SimilarityInput, any PreparedSimilarity)? { last.withLock { state in defer { state = nil }; return state } }
}

/// `consolidation --pairs FILE`: every cross-answer pair of the statements a report's key points hold, with the
/// gold point each statement counts for (the scorer's alignment) and the hybrid matcher's evidence both ways, as
/// JSON `[{folder, statements: [{panelist, start, end, gold}], pairs: [{a, b, ab, ba, lexical, score}]}]`:
/// `gold` the gold point's id or null (a statement the gold does not count), `ab` the five
/// `MatchEvidence.features` of a making b's point, `lexical` the rescaled lexical score, `score` the similarity
/// the analysis used. Development data for refitting the matcher on statement pairs. An answer is recognised by
/// a statement whose text only it has; one without such a statement (never seen in the golds) is left out.
enum ConsolidationPairs {
    struct Statement: Encodable {
        var panelist: String
        var start: Int
        var end: Int
        var gold: String?
    }

    struct Pair: Encodable {
        var a: Int
        var b: Int
        var ab: [Double]
        var ba: [Double]
        var lexical: Double
        var score: Double
    }

    struct Folder: Encodable {
        var folder: String
        var statements: [Statement]
        var pairs: [Pair]
    }

    /// - Throws: `EvalError` when the model is not a hybrid one (it has no matcher evidence).
    static func folder(_ name: String, report: Report, input: SimilarityInput, prepared: any PreparedSimilarity,
                       gold: LocatedGold) throws -> Folder {
        guard let source = prepared as? any MatchEvidenceSource else {
            throw EvalError("--pairs needs hybrid matching (it reads the matcher's evidence)")
        }
        // The report's evidence quotes are the statements' texts; answers are single samples here, so the
        // (panelist, text) pairs name statements, and the analysis' statement order maps onto them by answer.
        var byText: [String: [Report.Evidence]] = [:]
        for keyPoint in report.keyPoints { for e in keyPoint.evidence { byText[e.quote, default: []].append(e) } }
        var panelistOfAnswer: [Int: String] = [:]
        for (s, text) in input.statements.enumerated() {
            if let found = byText[text], found.count == 1 { panelistOfAnswer[input.answerOfStatement[s]] = found[0].panelist }
        }
        var index: [Int] = [], statements: [Statement] = []
        var used = Set<String>()
        for (s, text) in input.statements.enumerated() {
            guard let panelist = panelistOfAnswer[input.answerOfStatement[s]],
                  let e = byText[text]?.first(where: { $0.panelist == panelist && !used.contains("\($0.panelist)\u{1F}\($0.start)") })
            else { continue }
            used.insert("\(e.panelist)\u{1F}\(e.start)")
            let point = ConsolidationScorer.point(of: e.panelist, e.start, e.end, in: gold)
            index.append(s)
            statements.append(Statement(panelist: e.panelist, start: e.start, end: e.end, gold: point.map { gold.ids[$0] }))
        }
        var pairs: [Pair] = []
        for i in index.indices {
            for j in index.indices where j > i && statements[i].panelist != statements[j].panelist {
                let (a, b) = (index[i], index[j])
                pairs.append(Pair(a: i, b: j, ab: source.evidence(a, makes: b).features, ba: source.evidence(b, makes: a).features,
                                  lexical: source.lexicalScore(a, b), score: prepared.similarity(a, b)))
            }
        }
        return Folder(folder: name, statements: statements, pairs: pairs)
    }
}
