import ConvergeEmbeddings
import Foundation
import Testing

/// The Hugging Face cache as huggingface_hub lays it out: snapshots/HASH/FILE are relative symlinks into
/// blobs/, and refs/main names the current snapshot.
struct HuggingFaceCacheTests {
    static func snapshot(_ home: String, _ hash: String, files: [String] = ModelStore.requiredFiles) throws -> String {
        let dir = home + "/hub/models--sentence-transformers--all-MiniLM-L6-v2/snapshots/" + hash
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for file in files { _ = FileManager.default.createFile(atPath: dir + "/" + file, contents: Data()) }
        return dir
    }

    @Test func lookupPrefersRefsMainAndSkipsIncompleteSnapshots() throws {
        let home = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: home) }
        let store = ModelStore(environment: ["XDG_DATA_HOME": home + "/data", "HOME": home, "HF_HOME": home])
        _ = try Self.snapshot(home, "aaa", files: ["config.json"])
        let whole = try Self.snapshot(home, "bbb")
        #expect(store.locate() == whole)
        // refs/main naming an incomplete snapshot: the whole one is still used.
        let refs = home + "/hub/models--sentence-transformers--all-MiniLM-L6-v2/refs"
        try FileManager.default.createDirectory(atPath: refs, withIntermediateDirectories: true)
        try Data("aaa\n".utf8).write(to: URL(fileURLWithPath: refs + "/main"))
        #expect(store.locate() == whole)
    }

    @Test func lookupPrefersTheSnapshotRefsMainNames() throws {
        let home = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: home) }
        let store = ModelStore(environment: ["XDG_DATA_HOME": home + "/data", "HOME": home, "HF_HOME": home])
        _ = try Self.snapshot(home, "aaa")
        let main = try Self.snapshot(home, "ccc")
        let refs = home + "/hub/models--sentence-transformers--all-MiniLM-L6-v2/refs"
        try FileManager.default.createDirectory(atPath: refs, withIntermediateDirectories: true)
        try Data("ccc".utf8).write(to: URL(fileURLWithPath: refs + "/main"))
        #expect(store.locate() == main)
    }

    /// `install --from .../snapshots/HASH` copies the files the symlinks point at.
    @Test(.enabled(if: InstalledModel.available, InstalledModel.skipReason))
    func installFromASnapshotOfSymlinks() throws {
        let source = try #require(InstalledModel.directory, "all-MiniLM-L6-v2 must be installed")
        let home = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: home) }
        let repo = home + "/hub/models--sentence-transformers--all-MiniLM-L6-v2"
        let snapshot = repo + "/snapshots/0123abc"
        try FileManager.default.createDirectory(atPath: snapshot, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: repo + "/blobs", withIntermediateDirectories: true)
        for (n, file) in ModelStore.requiredFiles.enumerated() {
            // blobs/ENTRY -> the installed file (read only); snapshots/HASH/FILE -> ../../blobs/ENTRY.
            try FileManager.default.createSymbolicLink(atPath: repo + "/blobs/blob\(n)", withDestinationPath: source + "/" + file)
            try FileManager.default.createSymbolicLink(atPath: snapshot + "/" + file, withDestinationPath: "../../blobs/blob\(n)")
        }
        let store = ModelStore(environment: ["XDG_DATA_HOME": home + "/data", "HOME": home, "HF_HOME": home + "/none"])
        let installed = try store.install(ModelStore.miniLM, from: snapshot)
        for file in ModelStore.requiredFiles {
            let attributes = try FileManager.default.attributesOfItem(atPath: installed + "/" + file)
            #expect(attributes[.type] as? FileAttributeType == .typeRegular, "\(file)")
        }
        #expect(try SentenceEmbeddingModel(directory: installed).dimension == 384)
    }
}
