import ConvergeEmbeddings
import Foundation
import Testing

/// What interrupted installs leave behind: stale staging folders are removed by the next install, and a model
/// moved aside by a swap that was cut short is put back.
struct InstallRecoveryTests {
    /// The id of a process that has exited.
    static func deadPID() throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/true")
        try process.run()
        process.waitUntilExit()
        return process.processIdentifier
    }

    @Test func staleStagingIsRemovedAndAMovedAsideModelIsRestored() throws {
        let home = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: home) }
        let store = ModelStore(environment: ["XDG_DATA_HOME": home, "HOME": home, "HF_HOME": home])
        let models = store.modelsDirectory, dead = try Self.deadPID()
        // A kill between `target -> .old` and `staging -> target`: no target, the old model aside.
        let old = models + "/.old-all-MiniLM-L6-v2-\(dead)"
        let staging = models + "/.install-all-MiniLM-L6-v2-\(dead)"
        for dir in [old, staging] {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            for file in ModelStore.requiredFiles { _ = FileManager.default.createFile(atPath: dir + "/" + file, contents: Data(file.utf8)) }
        }
        #expect(store.installation() == .installed(path: store.installDirectory(for: ModelStore.miniLM)))
        #expect(!FileManager.default.fileExists(atPath: old))
        #expect(FileManager.default.contents(atPath: store.installDirectory(for: ModelStore.miniLM) + "/config.json") == Data("config.json".utf8))
        // The next install (here from a source that is refused) removes the staging folder of the dead one.
        let empty = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: empty) }
        #expect(throws: EmbeddingModelError.self) { try store.install(ModelStore.miniLM, from: empty) }
        #expect(!FileManager.default.fileExists(atPath: staging))
        #expect(try FileManager.default.contentsOfDirectory(atPath: models) == ["all-MiniLM-L6-v2"])
    }

    /// A damaged model given with --from: the message names the file in the source, not a staging folder
    /// that is gone, and does not advise the default download.
    @Test func refusedSourceNamesNoStagingFolder() throws {
        let home = temporaryDirectory(), source = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: home); try? FileManager.default.removeItem(atPath: source) }
        for file in ModelStore.requiredFiles { _ = FileManager.default.createFile(atPath: source + "/" + file, contents: Data("{".utf8)) }
        let store = ModelStore(environment: ["XDG_DATA_HOME": home, "HOME": home, "HF_HOME": home])
        do {
            _ = try store.install(ModelStore.miniLM, from: source)
            Issue.record("a damaged model was installed")
        } catch {
            #expect("\(error)".hasPrefix(source + ": the model in it does not load: "), "\(error)")
            #expect(!"\(error)".contains(".install-"), "\(error)")
            #expect(!"\(error)".contains("converge models install minilm"), "\(error)")
        }
    }
}
