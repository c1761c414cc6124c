import ConvergeAnalysis
@testable import ConvergeEmbeddings
import Foundation
import Testing

/// The ArgKP adapter merged natively (`ModelAdapter`, `BertEncoder`) against the training framework's own
/// output: the cosines of scripts/make-adapter-fixture.py (JAX float32, LoRA unmerged, as trained) on pairs of
/// ArgKP dev texts.
@Suite(.serialized)
struct AdapterTests {
    struct Fixture: Decodable {
        struct Pair: Decodable { var a: Int; var b: Int; var cosine: Double; var base: Double }
        var texts: [String]
        var pairs: [Pair]
        var made_by: String
    }

    static let fixture: Fixture = {
        let data = try! Data(contentsOf: Paths.fixtures.appendingPathComponent("argkp-adapter-reference.json"))
        return try! JSONDecoder().decode(Fixture.self, from: data)
    }()

    /// The bytes compiled into the binaries are the committed adapter file.
    @Test func embeddedAdapterIsTheCommittedFile() throws {
        let committed = try Data(contentsOf: Paths.repo.appendingPathComponent("models/argkp-adapter/adapter.safetensors"))
        #expect(Data(base64Encoded: ModelAdapter.argKPBase64, options: .ignoreUnknownCharacters) == committed)
        let adapter = ModelAdapter.argKP
        #expect(adapter.name == "argkp")
        #expect(!adapter.layers.isEmpty)
        #expect(adapter.layers.allSatisfy { $0.hasPrefix("encoder.layer.") })
    }

    @Test(.enabled(if: InstalledModel.available, InstalledModel.skipReason))
    func nativeCosinesEqualTheTrainingFramework() throws {
        let directory = try #require(InstalledModel.directory, "all-MiniLM-L6-v2 must be installed")
        let model = try SentenceEmbeddingModel(directory: directory, precision: .float32, adapter: .argKP)
        #expect(model.modelName == "all-MiniLM-L6-v2+argkp")
        #expect(model.cacheIdentity.contains(BertEncoder.arithmeticVersion + "+argkp-lora.1"))
        #expect(KeyPointMatcher.fitted(for: model) == .miniLMArgKP)
        let fixture = Self.fixture
        #expect(fixture.pairs.count >= 500)
        let vectors = model.encode(fixture.texts)
        var worst = 0.0, moved = 0.0
        for pair in fixture.pairs {
            let cosine = Double(dot(vectors[pair.a], vectors[pair.b]))
            worst = max(worst, abs(cosine - pair.cosine))
            moved = max(moved, abs(pair.cosine - pair.base))
        }
        print("adapter: largest |native - JAX| cosine over \(fixture.pairs.count) pairs \(worst); the adapter moves cosines by up to \(moved)")
        #expect(worst <= 1e-3)
        // The fixture would not tell adapted from base vectors if the adapter changed nothing.
        #expect(moved > 0.05)
    }

    /// With BF16 weight products the BF16 copies are made from the merged weights: the pairs' cosines stay near
    /// the float32 training framework's (BF16 rounds each product's inputs to 8 significant bits).
    @Test(.enabled(if: InstalledModel.available && EncoderPrecision.bf16Supported, "no model, or no AVX512-BF16"))
    func bf16CosinesStayNearTheTrainingFramework() throws {
        let directory = try #require(InstalledModel.directory, "all-MiniLM-L6-v2 must be installed")
        let model = try SentenceEmbeddingModel(directory: directory, precision: .bf16, adapter: .argKP)
        #expect(model.cacheIdentity.contains(BertEncoder.bf16ArithmeticVersion + "+argkp-lora.1"))
        let fixture = Self.fixture
        let vectors = model.encode(fixture.texts)
        let worst = fixture.pairs.map { abs(Double(dot(vectors[$0.a], vectors[$0.b])) - $0.cosine) }.max() ?? 0
        print("adapter, bf16: largest |native - JAX| cosine over \(fixture.pairs.count) pairs \(worst)")
        #expect(worst <= 1e-2)
    }

    /// Without the adapter the same pairs give the base model's cosines: the merge touches only what it names.
    @Test(.enabled(if: InstalledModel.available, InstalledModel.skipReason))
    func baseCosinesEqualTheTrainingFramework() throws {
        let directory = try #require(InstalledModel.directory, "all-MiniLM-L6-v2 must be installed")
        let model = try SentenceEmbeddingModel(directory: directory, precision: .float32, adapter: nil)
        #expect(model.modelName == "all-MiniLM-L6-v2")
        #expect(!model.cacheIdentity.contains("argkp"))
        let fixture = Self.fixture
        let vectors = model.encode(fixture.texts)
        let worst = fixture.pairs.map { abs(Double(dot(vectors[$0.a], vectors[$0.b])) - $0.base) }.max() ?? 0
        #expect(worst <= 1e-3)
    }

    @Test func adapterNamesFromTheEnvironment() {
        #expect(ModelAdapter.named(nil) == nil)
        #expect(ModelAdapter.named("") == nil)
        #expect(ModelAdapter.named("none") == nil)
        #expect(ModelAdapter.named("argkp")?.name == "argkp")
        #expect(ModelAdapter.named("ArgKP")?.name == "argkp")
    }

    @Test func damagedAdaptersAreRefused() throws {
        let lone = try SafeTensorsFile(path: "lone", data: safetensorsBytes([
            ("encoder.layer.0.output.dense.lora_a", [2, 3], [Float](repeating: 0, count: 6))]))
        #expect(throws: EmbeddingModelError.self) { try ModelAdapter(name: "x", version: "x.1", base: "b", provenance: "", file: lone) }
        let stray = try SafeTensorsFile(path: "stray", data: safetensorsBytes([("encoder.layer.0.output.dense.weight", [1], [0])]))
        #expect(throws: EmbeddingModelError.self) { try ModelAdapter(name: "x", version: "x.1", base: "b", provenance: "", file: stray) }
        let misfit = try SafeTensorsFile(path: "misfit", data: safetensorsBytes([
            ("l.lora_a", [2, 3], [Float](repeating: 0, count: 6)), ("l.lora_b", [4, 3], [Float](repeating: 0, count: 12))]))
        #expect(throws: EmbeddingModelError.self) { try ModelAdapter(name: "x", version: "x.1", base: "b", provenance: "", file: misfit) }
    }

    /// W + B·A on a small case computed by hand.
    @Test func mergeAddsTheLowRankProduct() throws {
        let file = try SafeTensorsFile(path: "small", data: safetensorsBytes([
            ("l.lora_a", [1, 3], [1, 2, 3]), ("l.lora_b", [2, 1], [10, -1])]))
        let adapter = try ModelAdapter(name: "x", version: "x.1", base: "b", provenance: "", file: file)
        let weight = FloatTensor(owning: [0, 0, 0, 1, 1, 1], shape: [2, 3])
        let merged = try #require(try adapter.merged(weight, layer: "l", rows: 2, columns: 3))
        #expect(merged.withUnsafeBufferPointer { Array($0) } == [10, 20, 30, 0, -1, -2])
        #expect(try adapter.merged(weight, layer: "other", rows: 2, columns: 3) == nil)
    }
}
