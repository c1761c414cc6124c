import Foundation

/// The tests' one way to run a program and one way to find this package's built executables.
package enum ChildProcess {
    /// What a finished child process left: its exit status (or signal number) and its two output streams, as UTF-8
    /// (invalid bytes replaced).
    package struct Output: Sendable {
        package var status: Int32
        package var stdout: String
        package var stderr: String

        package init(status: Int32, stdout: String, stderr: String) {
            self.status = status
            self.stdout = stdout
            self.stderr = stderr
        }
    }

    /// This package's executable `name` (`converge`, `converge-eval`): next to the running test bundle, where
    /// `swift build` puts every product (up to three folders up), else `repository/.build/debug/name`.
    package static func builtProduct(_ name: String, repository: URL) -> URL {
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<3 {
            let candidate = folder.appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            folder = folder.deletingLastPathComponent()
        }
        return repository.appendingPathComponent(".build/debug/\(name)")
    }

    /// Runs `executable` with `arguments` to its end, reading standard output and standard error at the same
    /// time (so that neither pipe fills up and blocks the child). Blocks the calling thread.
    ///
    /// - Parameters:
    ///   - environment: the child's whole environment; `nil` inherits this process's.
    ///   - directory: the child's working directory; `nil` keeps this process's.
    /// - Throws: when the executable cannot be started (missing, not executable).
    package static func run(_ executable: URL, _ arguments: [String], environment: [String: String]? = nil,
                            directory: URL? = nil) throws -> Output {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let directory { process.currentDirectoryURL = directory }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let errData = ReadOnce()
        let reader = Thread { errData.set(err.fileHandleForReading.readDataToEndOfFile()) }
        reader.start()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let stderr = errData.wait()
        return Output(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: stderr, as: UTF8.self))
    }

    /// ``run(_:_:environment:directory:)`` on a thread of its own, so that waiting for the child never holds one
    /// of the few threads of Swift's cooperative pool (loopback test servers need them to answer the child).
    package static func run(_ executable: URL, _ arguments: [String], environment: [String: String]? = nil,
                            directory: URL? = nil) async throws -> Output {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Result {
                    try run(executable, arguments, environment: environment, directory: directory)
                })
            }.start()
        }
    }

    /// Data written once by a reader thread and waited for by the caller.
    private final class ReadOnce: @unchecked Sendable {
        private let condition = NSCondition()
        private var data: Data?

        func set(_ value: Data) {
            condition.lock()
            data = value
            condition.signal()
            condition.unlock()
        }

        func wait() -> Data {
            condition.lock()
            defer { condition.unlock() }
            while data == nil { condition.wait() }
            return data ?? Data()
        }
    }
}
