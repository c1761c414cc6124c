import Foundation

/// Runs the built `converge` binary as a user would.
enum CLI {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let example = repo.appendingPathComponent("examples/senior-backend").path

    /// The `converge` executable next to the test bundle (`swift build` puts every product there).
    static let binary: URL = {
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<3 {
            let candidate = folder.appendingPathComponent("converge")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            folder = folder.deletingLastPathComponent()
        }
        return repo.appendingPathComponent(".build/debug/converge")
    }()

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

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs `executable` (the `converge` binary unless told otherwise) with `arguments`.
    static func run(_ arguments: [String], in directory: URL? = nil, environment: [String: String]? = nil,
                    executable: URL = binary) throws -> Result {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = environment ?? isolatedEnvironment
        process.currentDirectoryURL = directory ?? repo
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read both pipes concurrently so that neither fills up and blocks the child.
        let errData = LockedData()
        let reader = Thread { errData.set(err.fileHandleForReading.readDataToEndOfFile()) }
        reader.start()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while !errData.isSet { usleep(1_000) }
        return Result(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData.get(), as: UTF8.self))
    }

    /// `run` on a thread of its own, so that waiting for the child never holds one of the few threads of
    /// Swift's cooperative pool (the loopback test servers need them to answer the child).
    static func run(_ arguments: [String], in directory: URL? = nil, environment: [String: String]? = nil,
                    executable: URL = binary) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Result_(catching: { try run(arguments, in: directory, environment: environment, executable: executable) }))
            }.start()
        }
    }

    static func temporaryFolder(_ files: [String: Data] = [:]) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("converge-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for (name, data) in files { try data.write(to: dir.appendingPathComponent(name)) }
        return dir
    }
}

typealias Result_ = Swift.Result<CLI.Result, any Error>

final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var data: Data?
    func set(_ value: Data) { lock.lock(); data = value; lock.unlock() }
    func get() -> Data { lock.lock(); defer { lock.unlock() }; return data ?? Data() }
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return data != nil }
}
