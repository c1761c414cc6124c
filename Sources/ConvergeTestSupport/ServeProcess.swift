import Foundation

/// A `converge serve --port 0` child process (tests, and `converge-eval soak`); its standard error is collected.
package final class ServeProcess: @unchecked Sendable {
    package let process = Process()
    private let lock = NSLock()
    private var errorText = ""

    /// Starts `binary serve --port 0 ARGUMENTS` in `directory`, with this process's environment and `environment`.
    /// - Throws: when the binary cannot be started.
    package init(binary: URL, arguments: [String], environment: [String: String], directory: URL) throws {
        process.executableURL = binary
        process.arguments = ["serve", "--port", "0"] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.currentDirectoryURL = directory
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        err.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self, !data.isEmpty else { return }
            self.lock.withLock { self.errorText += String(decoding: data, as: UTF8.self) }
        }
        try process.run()
    }

    package var stderr: String { lock.withLock { errorText } }

    package var pid: Int32 { process.processIdentifier }

    /// The URL printed once the server listens.
    package func waitForURL(timeout: Duration = .seconds(60)) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let range = stderr.range(of: "converge: serving on ") {
                let rest = stderr[range.upperBound...]
                if let end = rest.firstIndex(of: "\n") { return String(rest[..<end]) }
            }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw ServeError.didNotStart(stderr)
    }

    /// Sends SIGTERM and waits for the exit status.
    package func terminate(timeout: Duration = .seconds(20)) async throws -> Int32 {
        process.terminate()
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else { throw ServeError.didNotStop(stderr) }
            try await Task.sleep(for: .milliseconds(20))
        }
        try await Task.sleep(for: .milliseconds(100))  // let the last stderr bytes arrive
        return process.terminationStatus
    }

    /// SIGKILL: no shutdown at all, as a crash or the OOM killer.
    package func kill() {
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
    }

    package enum ServeError: Error { case didNotStart(String), didNotStop(String) }
}
