import ConvergeEmbeddings
import Foundation
import Testing

/// Texts read in a context (`SentenceEmbeddingModel.encode(_:context:)`) against an independent reference:
/// Hugging Face `tokenizers`' pair encoding and a numpy float64 forward pass pooled over the text's tokens
/// (`scripts/minilm-reference.py --pairs`), on ArgKP arguments and key points in their topic, AlpacaEval first
/// sentences in their prompt, and pairs that truncation must cut.
@Suite(.serialized, .enabled(if: InstalledModel.available, InstalledModel.skipReason))
struct PairEncodingTests {
    struct Fixture: Decodable {
        struct Item: Decodable { var context: String; var text: String; var ids: [Int32]; var textStart: Int; var embedding: String }
        var items: [Item]

        func vector(_ item: Item) -> [Float] { referenceVector(item.embedding) }
    }

    static let fixture: Fixture = {
        let data = try! Data(contentsOf: Paths.fixtures.appendingPathComponent("minilm-pair-reference.json"))
        return try! JSONDecoder().decode(Fixture.self, from: data)
    }()

    @Test func pairTokenIDsEqualHuggingFaceTokenizers() throws {
        let model = try #require(InstalledModel.model, "all-MiniLM-L6-v2 must be installed")
        #expect(Self.fixture.items.count >= 90)
        var mismatches: [String] = []
        for item in Self.fixture.items {
            let (ids, start) = model.tokenizer.encode(item.text, context: item.context, maxLength: model.maxSequenceLength)
            if ids != item.ids || start != item.textStart { mismatches.append("\(item.context.prefix(30)) | \(item.text.prefix(40))") }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) differ: \(mismatches.prefix(5))")
        // Truncation shares the 256 positions between a long context and a long text.
        #expect(Self.fixture.items.filter { $0.ids.count == 256 }.count >= 3)
    }

    @Test func pairEmbeddingsEqualTheReference() throws {
        let model = try #require(InstalledModel.model, "all-MiniLM-L6-v2 must be installed")
        var worst: (Float, String) = (1, "")
        // One call per context, as kpa-predict --context topic makes it.
        var byContext: [String: [Int]] = [:]
        for (i, item) in Self.fixture.items.enumerated() { byContext[item.context, default: []].append(i) }
        for (context, members) in byContext {
            let vectors = model.encode(members.map { Self.fixture.items[$0].text }, context: context)
            for (i, vector) in zip(members, vectors) {
                let item = Self.fixture.items[i]
                let cosine = zip(vector, Self.fixture.vector(item)).reduce(Float(0)) { $0 + $1.0 * $1.1 }
                if cosine < worst.0 { worst = (cosine, item.text) }
            }
        }
        print("pairs: minimum cosine to the reference over \(Self.fixture.items.count) pairs: \(worst.0)")
        #expect(worst.0 >= 0.999, "worst: \(worst.1.prefix(80))")
    }

    /// The context changes the vector (it is read), and no context is the plain encoding.
    @Test func aContextIsReadAndNoneIsThePlainEncoding() throws {
        let model = try #require(InstalledModel.model, "all-MiniLM-L6-v2 must be installed")
        let text = "It is cruel to the animals."
        let plain = model.encode([text])[0]
        #expect(model.encode([text], context: nil)[0] == plain)
        let inTopic = model.encode([text], context: "We should ban whaling")[0]
        let otherTopic = model.encode([text], context: "We should abolish zoos")[0]
        let cosine = zip(inTopic, otherTopic).reduce(Float(0)) { $0 + $1.0 * $1.1 }
        #expect(cosine < 0.99)
    }
}
