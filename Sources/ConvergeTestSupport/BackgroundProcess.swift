import Foundation

/// A child process left running while a test or benchmark goes on (`converge worker`, `converge batch --queue`):
/// its standard output and standard error are collected as they come, it can be sent any signal, and waiting for
/// it has a deadline.
package final class BackgroundProcess: @unchecked Sendable {
    package let process = Process()
    private let lock = NSLock()
    private var outText = Data()
    private var errText = Data()

    /// Starts `executable ARGUMENTS` with exactly `environment`.
    /// - Throws: when the executable cannot be started.
    package init(_ executable: URL, _ arguments: [String], environment: [String: String], directory: URL? = nil) throws {
        process.executableURL = executable
        process.arguments = arguments
        process.environment = environment
        if let directory { process.currentDirectoryURL = directory }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        out.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self, !data.isEmpty else { return }
            self.lock.withLock { self.outText.append(data) }
        }
        err.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self, !data.isEmpty else { return }
            self.lock.withLock { self.errText.append(data) }
        }
        try process.run()
    }

    package var pid: Int32 { process.processIdentifier }
    package var isRunning: Bool { process.isRunning }
    package var stdout: String { lock.withLock { String(decoding: outText, as: UTF8.self) } }
    package var stderr: String { lock.withLock { String(decoding: errText, as: UTF8.self) } }

    /// Sends `signal` (SIGTERM, SIGINT, SIGKILL) if the process still runs.
    package func send(_ signal: Int32) {
        if process.isRunning { kill(process.processIdentifier, signal) }
    }

    /// Waits for the exit status (the signal number for a process killed by one); after `timeout` the process is
    /// killed (SIGKILL) and `nil` returned.
    package func wait(timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else {
                send(SIGKILL)
                while process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
                return nil
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        try? await Task.sleep(for: .milliseconds(100))  // the last output bytes
        return process.terminationStatus
    }
}
