import ConvergeAnalysis
import ConvergeCore
import ConvergeEmbeddings
import Foundation
import Testing

/// Hybrid key points and their themes do not depend on the order the answers come in (the order of answer files): the same
/// answers analysed in two orders give the same key points, as sets of (panelist, quote) evidence.
@Suite(.serialized, .enabled(if: InstalledModel.available, InstalledModel.skipReason))
struct HybridOrderTests {
    struct Output: Decodable { var instruction: String; var output: String }
    static let models = ["claude-3-5-sonnet-20240620", "gpt-4o-2024-05-13", "Meta-Llama-3.1-405B-Instruct-Turbo",
                         "mistral-large-2402", "Qwen2-72B-Instruct"]

    /// AlpacaEval prompt `p` (../shared/corpus/alpaca-eval, read in place), answers in `order`.
    static func input(prompt p: Int, order: [Int]) throws -> AnalysisInput {
        let outputs = try models.map { model in
            try JSONDecoder().decode([Output].self, from: Data(contentsOf: Paths.corpus.appendingPathComponent("alpaca-eval/\(model).json")))
        }
        return AnalysisInput(prompt: outputs[0][p].instruction,
                             answers: order.map { Answer(panelist: Panelist(id: models[$0]), text: outputs[$0][p].output) },
                             rubric: nil)
    }

    struct Quote: Hashable { var panelist: String; var quote: String }
    static func keyPoints(_ report: Report) -> Set<Set<Quote>> {
        Set(report.keyPoints.map { Set($0.evidence.map { Quote(panelist: $0.panelist, quote: $0.quote) }) })
    }

    /// Each key point's evidence with the theme it is under (themes are named from the answers' words).
    static func themed(_ report: Report) -> Set<[String]> {
        Set(report.keyPoints.map { [$0.category ?? "-"] + $0.evidence.map { "\($0.panelist): \($0.quote)" }.sorted() })
    }

    // 15 (ae-015 of the consolidation corpus) once gave 24 key points in one order and 25 in another: the
    // merges and block joins ran in statement order, which follows the answers' order.
    @Test(arguments: [3, 0, 32, 15])
    func keyPointsDoNotDependOnAnswerOrder(prompt: Int) throws {
        let model = try #require(InstalledModel.model, "all-MiniLM-L6-v2 must be installed")
        let analyzer = Analyzer(similarity: HybridSimilarity(encoder: model))
        let forward = analyzer.analyze(try Self.input(prompt: prompt, order: [0, 1, 2, 3, 4]))
        for order in [[4, 3, 2, 1, 0], [2, 0, 4, 1, 3]] {
            let other = analyzer.analyze(try Self.input(prompt: prompt, order: order))
            #expect(other.keyPoints.count == forward.keyPoints.count, "prompt \(prompt), order \(order)")
            #expect(Self.keyPoints(other) == Self.keyPoints(forward), "prompt \(prompt), order \(order)")
            #expect(Self.themed(other) == Self.themed(forward), "prompt \(prompt), order \(order): themes")
            // The analysis sees the answers in a canonical order, so even the key points' order and labels agree.
            #expect(other.keyPoints.map(\.label) == forward.keyPoints.map(\.label), "prompt \(prompt), order \(order)")
        }
    }
}
