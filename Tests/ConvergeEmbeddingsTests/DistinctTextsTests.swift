import ConvergeAnalysis
import ConvergeCore
import ConvergeEmbeddings
import Foundation
import Synchronization
import Testing

/// Identical texts are encoded once (`SentenceEmbeddingModel.encode`): within one call, texts of the same token
/// ids share one forward pass and one vector, and the batches are made of the distinct sequences only, so a
/// text's vector does not depend on how often it or its batch mates are repeated. Counted with the real model
/// (its `progress` reports the sequences it encodes) and through a whole analysis.
@Suite(.serialized, .enabled(if: InstalledModel.available, InstalledModel.skipReason))
struct DistinctTextsTests {
    /// The sequences the model ran its forward pass on, per `encode` call (the last `progress` total of each).
    final class Encoded: Sendable {
        private let totals = Mutex<[Int]>([])
        private let batches = Mutex(0)
        func record(encoded: Int, total: Int) {
            batches.withLock { $0 += 1 }
            if encoded == total { totals.withLock { $0.append(total) } }
        }
        var calls: [Int] { totals.withLock { $0 } }
        var batchCount: Int { batches.withLock { $0 } }
    }

    static func model(batchSize: Int = 64) throws -> (SentenceEmbeddingModel, Encoded) {
        var model = try SentenceEmbeddingModel(directory: try #require(InstalledModel.directory), batchSize: batchSize)
        let encoded = Encoded()
        model.progress = { encoded.record(encoded: $0, total: $1) }
        return (model, encoded)
    }

    static let sentences = [
        "Measure before you cache.", "Caching needs invalidation.", "Write tests for the edge cases.",
        "Keep services stateless where you can, so that they scale out.", "Own your on-call rotation.",
        "Prefer boring technology.", "Document the decisions, not only the code.",
    ]

    @Test func repeatedTextsAreEncodedOnceAndGetTheSameVectorsAsAlone() throws {
        let (model, encoded) = try Self.model(batchSize: 4)
        // Each sentence 1 to 4 times, mixed (17 texts, position i to 7i mod 17); "MEASURE before you cache." has
        // the same (uncased) token ids as "Measure before you cache.".
        let repeated = Self.sentences.enumerated().flatMap { Array(repeating: $0.element, count: 1 + $0.offset % 4) }
            + ["MEASURE before you cache."]
        #expect(repeated.count == 17)
        let texts = repeated.indices.sorted { ($0 * 7) % 17 < ($1 * 7) % 17 }.map { repeated[$0] }
        let vectors = model.encode(texts)
        #expect(encoded.calls == [Self.sentences.count], "each distinct sequence once")
        #expect(encoded.batchCount == 2, "7 sequences in batches of 4")

        let alone = model.encode(Self.sentences)
        #expect(encoded.calls == [Self.sentences.count, Self.sentences.count])
        for (text, vector) in zip(texts, vectors) {
            let i = try #require(Self.sentences.firstIndex { $0.lowercased() == text.lowercased() })
            // Bit for bit: the same distinct sequences make the same batches.
            #expect(vector == alone[i], "\(text)")
        }
    }

    @Test func anAnalysisEncodesEachDistinctTextOnce() throws {
        let (model, encoded) = try Self.model()
        // The example survey, with a paragraph repeated in one answer, the same sentence in another, and a rubric
        // item that is word for word a statement of an answer.
        let example = Paths.repo.appendingPathComponent("examples/senior-backend")
        var input = try SurveyFolder.load(paths: [example.path])
        let repeated = "Own the reliability of what you ship. Measure it with SLOs."
        input.answers[0].text += "\n\n" + repeated + "\n\n" + repeated + "\n"
        input.answers[1].text += "\n\n" + repeated + "\n"
        var rubric = try #require(input.rubric)
        rubric.categories[0].items.append(Rubric.Item(id: "slo", text: "Measure it with SLOs."))
        input.rubric = rubric

        let texts = Analyzer.encodedTexts(for: input)
        let distinct = Set(texts.map(model.tokenIDs)).count
        #expect(texts.count - distinct >= 5, "the input repeats texts (\(texts.count) texts, \(distinct) distinct)")
        let report = Analyzer(similarity: EmbeddingSimilarity(encoder: model)).analyze(input)
        #expect(encoded.calls == [distinct], "one call, each distinct text once")
        #expect(!report.keyPoints.isEmpty)
        #expect(report.rubric?.items.first { $0.id == "slo" }?.support.isEmpty == false, "the item equal to a statement is made")
    }

    @Test func theBatchesDoNotDependOnRepetitionOrOrder() throws {
        let (model, _) = try Self.model(batchSize: 3)
        let once = model.encode(Self.sentences)
        let twice = model.encode(Self.sentences.reversed() + Self.sentences)
        #expect(Array(twice[Self.sentences.count...]) == once)
        #expect(Array(twice[..<Self.sentences.count]) == once.reversed())
        #expect(model.encode([]) == [])
    }
}
