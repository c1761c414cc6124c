import ConvergeEmbeddings
import Foundation
import Testing

/// Missing and damaged model files give `EmbeddingModelError`s naming the file, never a crash.
struct ModelFileTests {
    @Test func readsTensorsAndChecksShapes() throws {
        let dir = temporaryDirectory()
        let path = dir + "/model.safetensors"
        try safetensorsBytes([("a", [2, 3], [1, 2, 3, 4, 5, 6]), ("b", [1], [-0.5])]).write(to: URL(fileURLWithPath: path))
        let file = try SafeTensorsFile(path: path)
        #expect(try file.floats("a", shape: [2, 3]) == [1, 2, 3, 4, 5, 6])
        #expect(try file.floats("b", shape: [1]) == [-0.5])
        #expect(throws: EmbeddingModelError.damaged(path: path, reason: "tensor a has shape [2, 3], expected [3, 2]")) {
            try file.floats("a", shape: [3, 2])
        }
        #expect(throws: EmbeddingModelError.damaged(path: path, reason: "tensor c is missing")) {
            try file.floats("c", shape: [1])
        }
    }

    @Test func truncatedFileIsDamaged() throws {
        let dir = temporaryDirectory()
        let path = dir + "/model.safetensors"
        try safetensorsBytes([("a", [4], [1, 2, 3, 4])], truncate: 3).write(to: URL(fileURLWithPath: path))
        let reason = "tensor a: bytes 0..<16 lie outside the data (13 bytes; the file may be truncated)"
        #expect(throws: EmbeddingModelError.damaged(path: path, reason: reason)) {
            try SafeTensorsFile(path: path)
        }
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: path))
        #expect(throws: EmbeddingModelError.damaged(path: path, reason: "not a safetensors file (3 bytes, no header)")) {
            try SafeTensorsFile(path: path)
        }
        try safetensorsBytes([], header: "{not json").write(to: URL(fileURLWithPath: path))
        #expect(throws: EmbeddingModelError.damaged(path: path, reason: "header is not a JSON object")) {
            try SafeTensorsFile(path: path)
        }
        try safetensorsBytes([("a", [4], [1, 2, 3, 4])],
                             header: #"{"a":{"dtype":"F32","shape":[5],"data_offsets":[0,16]}}"#).write(to: URL(fileURLWithPath: path))
        #expect(throws: EmbeddingModelError.damaged(path: path, reason: "tensor a: shape [5] of F32 needs 20 bytes, the header gives 16")) {
            try SafeTensorsFile(path: path)
        }
    }

    @Test func missingFilesAreNamed() throws {
        let dir = temporaryDirectory()
        #expect(throws: EmbeddingModelError.missingFile(path: dir + "/config.json")) {
            try SentenceEmbeddingModel(directory: dir)
        }
        let store = ModelStore(environment: ["XDG_DATA_HOME": dir, "HOME": dir])
        #expect(store.locate() == nil)
        #expect(throws: EmbeddingModelError.self) { try store.load() }
        do {
            _ = try store.load()
        } catch {
            #expect("\(error)".contains("converge models install minilm"))
        }
    }

    /// A real model folder with its weights cut short is refused at install and names the file.
    @Test(.enabled(if: InstalledModel.available, InstalledModel.skipReason))
    func installChecksTheModel() throws {
        let source = try #require(InstalledModel.directory, "all-MiniLM-L6-v2 must be installed")
        let home = temporaryDirectory()
        let store = ModelStore(environment: ["XDG_DATA_HOME": home, "HOME": home])
        let installed = try store.install(ModelStore.miniLM, from: source)
        #expect(installed == home + "/converge/models/all-MiniLM-L6-v2")
        #expect(store.locate() == installed)

        // Damage a copy: weights truncated by 1 KiB.
        let broken = temporaryDirectory()
        for file in ["config.json", "tokenizer.json"] {
            try FileManager.default.copyItem(atPath: source + "/" + file, toPath: broken + "/" + file)
        }
        let weights = try Data(contentsOf: URL(fileURLWithPath: source + "/model.safetensors"))
        try weights.prefix(weights.count - 1024).write(to: URL(fileURLWithPath: broken + "/model.safetensors"))
        #expect(throws: EmbeddingModelError.self) { try SentenceEmbeddingModel(directory: broken) }
        do {
            _ = try store.install(ModelStore.miniLM, from: broken)
            Issue.record("a damaged model was installed")
        } catch {
            #expect("\(error)".contains("model.safetensors"))
            #expect("\(error)".contains("truncated"))
        }
        // The earlier install is untouched.
        #expect(store.locate() == installed)
        #expect(try SentenceEmbeddingModel(directory: installed).dimension == 384)
    }

    @Test func huggingFaceCacheIsUsedAsIs() throws {
        let home = temporaryDirectory()
        let snapshot = home + "/hub/models--sentence-transformers--all-MiniLM-L6-v2/snapshots/abc"
        try FileManager.default.createDirectory(atPath: snapshot, withIntermediateDirectories: true)
        for file in ModelStore.requiredFiles { _ = FileManager.default.createFile(atPath: snapshot + "/" + file, contents: Data()) }
        let store = ModelStore(environment: ["XDG_DATA_HOME": home + "/data", "HOME": home, "HF_HOME": home])
        #expect(store.locate() == snapshot)
    }
}
