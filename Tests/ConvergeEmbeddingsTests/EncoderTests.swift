import ConvergeEmbeddings
import Foundation
import Testing

/// The native encoder against an independent reference: Hugging Face `tokenizers` (Rust) and a numpy float64
/// forward pass (scripts/minilm-reference.py), on sentences of the three corpora plus edge cases.
@Suite(.serialized, .enabled(if: InstalledModel.available, InstalledModel.skipReason))
struct EncoderTests {
    struct Fixture: Decodable {
        struct Item: Decodable { var text: String; var ids: [Int32]; var embedding: String }
        var items: [Item]
        var made_by: String

        func vector(_ item: Item) -> [Float] { referenceVector(item.embedding) }
    }

    static let fixture: Fixture = {
        let data = try! Data(contentsOf: Paths.fixtures.appendingPathComponent("minilm-reference.json"))
        return try! JSONDecoder().decode(Fixture.self, from: data)
    }()

    @Test func tokenIDsEqualHuggingFaceTokenizers() throws {
        let model = try #require(InstalledModel.model, "all-MiniLM-L6-v2 must be installed")
        #expect(Self.fixture.items.count >= 200)
        var mismatches: [String] = []
        for item in Self.fixture.items where model.tokenIDs(item.text) != item.ids {
            mismatches.append(item.text.prefix(60) + ": \(model.tokenizer.tokens(item.text).prefix(20))")
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) differ: \(mismatches.prefix(5))")
        // The long answer is truncated to 256 tokens, [CLS] and [SEP] included.
        #expect(Self.fixture.items.map(\.ids.count).max() == 256)
    }

    @Test func embeddingsEqualTheReference() throws {
        let model = try #require(InstalledModel.model, "all-MiniLM-L6-v2 must be installed")
        let texts = Self.fixture.items.map(\.text)
        let vectors = model.encode(texts)
        var worst: (Float, String) = (1, "")
        for (item, vector) in zip(Self.fixture.items, vectors) {
            #expect(vector.count == 384)
            let cosine = zip(vector, Self.fixture.vector(item)).reduce(Float(0)) { $0 + $1.0 * $1.1 }
            if cosine < worst.0 { worst = (cosine, item.text) }
        }
        print("minimum cosine to the reference over \(texts.count) sentences: \(worst.0)")
        #expect(worst.0 >= 0.999, "worst: \(worst.1.prefix(80))")
    }

    /// The same check with BF16 weight products (`CONVERGE_ENCODER_PRECISION=bf16`), where the CPU has
    /// AVX512-BF16: every one of the 202 sentences, against the reference as committed.
    @Test(.enabled(if: EncoderPrecision.bf16Supported, "this CPU has no AVX512-BF16"))
    func bf16EmbeddingsEqualTheReference() throws {
        let directory = try #require(InstalledModel.directory, "all-MiniLM-L6-v2 must be installed")
        let model = try SentenceEmbeddingModel(directory: directory, precision: .bf16)
        #expect(model.encoder.precision.kind == .bf16)
        #expect(model.cacheIdentity.contains(BertEncoder.bf16ArithmeticVersion))
        let vectors = model.encode(Self.fixture.items.map(\.text))
        var worst: (Float, String) = (1, "")
        for (item, vector) in zip(Self.fixture.items, vectors) {
            let cosine = zip(vector, Self.fixture.vector(item)).reduce(Float(0)) { $0 + $1.0 * $1.1 }
            if cosine < worst.0 { worst = (cosine, item.text) }
        }
        print("bf16: minimum cosine to the reference over \(vectors.count) sentences: \(worst.0)")
        #expect(worst.0 >= 0.999, "worst: \(worst.1.prefix(80))")
    }

    /// The same check with int8 weight products (`CONVERGE_ENCODER_PRECISION=int8`), where the CPU has
    /// AVX512-VNNI: every one of the 202 sentences, against the Float32 reference as committed, at the bound the
    /// other precisions meet (measured: least 0.99907, mean 0.99978; with scales per 64 inputs and per weight row
    /// the least was 0.995, short texts such as "Absolutely!" worst; BENCHMARKS.md).
    @Test(.enabled(if: EncoderPrecision.int8Supported, "this CPU has no AVX512-VNNI"))
    func int8EmbeddingsStayNearTheReference() throws {
        let directory = try #require(InstalledModel.directory, "all-MiniLM-L6-v2 must be installed")
        let model = try SentenceEmbeddingModel(directory: directory, precision: .int8)
        #expect(model.encoder.precision.kind == .int8)
        #expect(model.cacheIdentity.contains(BertEncoder.int8ArithmeticVersion))
        let vectors = model.encode(Self.fixture.items.map(\.text))
        var cosines: [Float] = []
        var worst: (Float, String) = (1, "")
        for (item, vector) in zip(Self.fixture.items, vectors) {
            let cosine = zip(vector, Self.fixture.vector(item)).reduce(Float(0)) { $0 + $1.0 * $1.1 }
            cosines.append(cosine)
            if cosine < worst.0 { worst = (cosine, item.text) }
        }
        let mean = cosines.reduce(0, +) / Float(cosines.count)
        print("int8: minimum cosine to the reference over \(vectors.count) sentences: \(worst.0), mean \(mean)")
        #expect(worst.0 >= 0.999, "worst: \(worst.1.prefix(80))")
        #expect(mean >= 0.9997)
    }

    /// Float32 weight products, whatever the default: the vectors the reference was checked against since issue 16.
    @Test func float32EmbeddingsEqualTheReference() throws {
        let directory = try #require(InstalledModel.directory, "all-MiniLM-L6-v2 must be installed")
        let model = try SentenceEmbeddingModel(directory: directory, precision: .float32)
        #expect(model.encoder.precision.kind == .float32)
        #expect(model.cacheIdentity.contains(BertEncoder.arithmeticVersion))
        let vectors = model.encode(Self.fixture.items.map(\.text))
        let worst = zip(Self.fixture.items, vectors).map { item, vector in
            zip(vector, Self.fixture.vector(item)).reduce(Float(0)) { $0 + $1.0 * $1.1 }
        }.min() ?? 0
        #expect(worst >= 0.999)
    }

    @Test func batchingDoesNotChangeVectors() throws {
        let model = try #require(InstalledModel.model, "all-MiniLM-L6-v2 must be installed")
        let texts = Array(Self.fixture.items.map(\.text).prefix(40))
        let batched = model.encode(texts)
        var single = model
        single.batchSize = 1
        let alone = single.encode(texts)
        for (a, b) in zip(batched, alone) {
            #expect(zip(a, b).reduce(Float(0)) { $0 + $1.0 * $1.1 } > 0.99999)
        }
    }

    @Test func paraphrasesAreCloserThanUnrelatedSentences() throws {
        let model = try #require(InstalledModel.model, "all-MiniLM-L6-v2 must be installed")
        let v = model.encode(["mentorship of junior engineers", "guiding junior developers",
                              "caching strategies for databases"])
        let para = zip(v[0], v[1]).reduce(Float(0)) { $0 + $1.0 * $1.1 }
        let unrelated = zip(v[0], v[2]).reduce(Float(0)) { $0 + $1.0 * $1.1 }
        #expect(para > 0.5)
        #expect(para > unrelated + 0.3)
    }
}
