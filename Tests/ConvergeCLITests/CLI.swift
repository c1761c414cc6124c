import ConvergeTestSupport
import Foundation

/// Runs the built `converge` binary as a user would.
enum CLI {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let example = repo.appendingPathComponent("examples/senior-backend").path

    /// The `converge` executable next to the test bundle (`swift build` puts every product there).
    static let binary = ChildProcess.builtProduct("converge", repository: repo)

    /// This process's environment with no local embedding model to find (data directory and Hugging Face cache
    /// pointed at an empty folder) and none to fetch (`CONVERGE_OFFLINE=1`), so that `converge analyze` keeps
    /// its lexical default whatever the machine has installed; tests of the embedding model pass `--similarity`
    /// and `installedModelEnvironment`, tests of the first-use fetch their own.
    static let isolatedEnvironment: [String: String] = {
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("converge-no-models").path
        return ProcessInfo.processInfo.environment.merging(["XDG_DATA_HOME": empty, "HF_HOME": empty,
                                                            "CONVERGE_OFFLINE": "1"]) { $1 }
    }()

    /// This process's environment as is (the installed all-MiniLM-L6-v2 is found).
    static let installedModelEnvironment = ProcessInfo.processInfo.environment

    typealias Result = ChildProcess.Output

    /// Runs `executable` (the `converge` binary unless told otherwise) with `arguments`, in the repository
    /// unless told otherwise, with ``isolatedEnvironment`` unless given another.
    static func run(_ arguments: [String], in directory: URL? = nil, environment: [String: String]? = nil,
                    executable: URL = binary) throws -> Result {
        try ChildProcess.run(executable, arguments, environment: environment ?? isolatedEnvironment,
                             directory: directory ?? repo)
    }

    /// `run` on a thread of its own (``ChildProcess``), so that waiting for the child never holds a thread of
    /// Swift's cooperative pool.
    static func run(_ arguments: [String], in directory: URL? = nil, environment: [String: String]? = nil,
                    executable: URL = binary) async throws -> Result {
        try await ChildProcess.run(executable, arguments, environment: environment ?? isolatedEnvironment,
                                   directory: directory ?? repo)
    }

    static func temporaryFolder(_ files: [String: Data] = [:]) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("converge-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for (name, data) in files { try data.write(to: dir.appendingPathComponent(name)) }
        return dir
    }
}
