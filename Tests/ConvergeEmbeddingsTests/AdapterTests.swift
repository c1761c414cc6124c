import ConvergeEmbeddings
import Foundation
import Testing

/// The ArgKP adapter (`ModelAdapter.argKP`, LoRA deltas merged into all-MiniLM-L6-v2 when it loads) against an
/// independent reference: the same deltas merged in numpy float64 and encoded by scripts/minilm-reference.py's
/// forward pass (fixture made by scripts/make-adapter-fixture.py; its `made_by` says how), on ArgKP dev
/// argument-key point and argument-argument pairs.
@Suite(.serialized, .enabled(if: InstalledModel.available, InstalledModel.skipReason))
struct AdapterTests {
    struct Fixture: Decodable {
        struct Item: Decodable { var a: String; var b: String; var kind: String; var cosine: Double; var base_cosine: Double }
        var items: [Item]
        var made_by: String
    }

    static let fixture: Fixture = {
        let data = try! Data(contentsOf: Paths.fixtures.appendingPathComponent("argkp-adapter-reference.json"))
        return try! JSONDecoder().decode(Fixture.self, from: data)
    }()

    @Test func tunedCosinesEqualTheReference() throws {
        let directory = try #require(InstalledModel.directory, "all-MiniLM-L6-v2 must be installed")
        let tuned = try SentenceEmbeddingModel(directory: directory, adapter: .argKP)
        #expect(tuned.modelName == "all-MiniLM-L6-v2+argkp")
        let base = try #require(InstalledModel.model)
        let items = Self.fixture.items
        #expect(items.count >= 500)
        let texts = Array(Set(items.flatMap { [$0.a, $0.b] })).sorted()
        let index = Dictionary(uniqueKeysWithValues: texts.enumerated().map { ($1, $0) })
        let tunedVectors = tuned.encode(texts), baseVectors = base.encode(texts)
        func cosine(_ vs: [[Float]], _ a: String, _ b: String) -> Double {
            Double(zip(vs[index[a]!], vs[index[b]!]).reduce(Float(0)) { $0 + $1.0 * $1.1 })
        }
        var worst = 0.0, worstBase = 0.0, moved = 0.0
        for item in items {
            worst = max(worst, abs(cosine(tunedVectors, item.a, item.b) - item.cosine))
            worstBase = max(worstBase, abs(cosine(baseVectors, item.a, item.b) - item.base_cosine))
            moved = max(moved, abs(item.cosine - item.base_cosine))
        }
        print("adapter: largest difference to the reference over \(items.count) pairs: \(worst) (base model: \(worstBase)); "
              + "largest change the adapter makes: \(moved)")
        #expect(worst < 1e-3)
        #expect(worstBase < 1e-3)
        // The adapter does change the scores: the equality above is not the base model's.
        #expect(moved > 0.05)
    }

    @Test func adapterFilesAreChecked() throws {
        func adapter(_ tensors: [(String, [Int], [Float])]) throws -> ModelAdapter {
            try ModelAdapter(name: "t", base: "b", provenance: "", file: SafeTensorsFile(path: "t", data: safetensorsBytes(tensors)))
        }
        #expect(throws: EmbeddingModelError.damaged(path: "t", reason: "tensor x.weight is not a .lora_a or .lora_b")) {
            try adapter([("x.weight", [1], [0])])
        }
        #expect(throws: EmbeddingModelError.damaged(path: "t", reason: "layer x lacks lora_a or lora_b")) {
            try adapter([("x.lora_a", [1, 1], [0])])
        }
        #expect(ModelAdapter.argKP.layers.count > 0)
        #expect(ModelAdapter.argKP.provenance.contains("train-matcher.py"))
        // A layer the model does not have is refused when the model loads, not silently ignored.
        let directory = try #require(InstalledModel.directory, "all-MiniLM-L6-v2 must be installed")
        let foreign = try adapter([("encoder.layer.9.attention.self.query.lora_a", [1, 384], [Float](repeating: 0, count: 384)),
                                   ("encoder.layer.9.attention.self.query.lora_b", [384, 1], [Float](repeating: 0, count: 384))])
        #expect(throws: EmbeddingModelError.self) { try SentenceEmbeddingModel(directory: directory, adapter: foreign) }
    }
}
