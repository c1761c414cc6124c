import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One timed run of a child process for the cold-process benchmarks (`bench analyze`, `bench ask`).
///
/// posix_spawn(2) and wait4(2) rather than Foundation's `Process`: on Linux `Process.waitUntilExit()` polls its run
/// loop every 50 ms, so wall times measured around it come in steps of about 50 ms (seen in `bench analyze`: cold
/// lexical analyses read 53 or 101 ms), and its own reaping would race wait4, which returns the child's rusage.
struct ColdProcess {
    /// What one run measured: wall seconds from spawn to exit, the child's CPU seconds (user + system) and peak
    /// RSS in MiB, and its standard error.
    struct Run {
        var wall: Double, cpu: Double, peakMiB: Double
        var standardError: String
    }

    /// Runs `binary` with `arguments` (and `environment`, default this process's), standard output to /dev/null;
    /// throws when it cannot start or exits non-zero or by a signal, with the last 2,000 characters of its
    /// standard error.
    static func run(_ binary: String, _ arguments: [String],
                    environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Run {
        let errors = FileManager.default.temporaryDirectory.appendingPathComponent("converge-eval-\(UUID().uuidString).err")
        defer { try? FileManager.default.removeItem(at: errors) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, errors.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let argv = ([binary] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        var status: Int32 = 0
        var usage = rusage()
        let (spawned, wall) = Measure.time { () -> Int32 in
            let spawned = posix_spawn(&pid, binary, &actions, nil, argv, envp)
            if spawned == 0 { while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {} }
            return spawned
        }
        guard spawned == 0 else { throw EvalError("cannot start \(binary): \(String(cString: strerror(spawned)))") }
        let standardError = (try? String(contentsOf: errors, encoding: .utf8)) ?? ""
        let exited = (status & 0x7f) == 0, code = (status >> 8) & 0xff
        guard exited && code == 0 else {
            let how = exited ? "exit \(code)" : "signal \(status & 0x7f)"
            let command = ([binary] + arguments.prefix(4)).joined(separator: " ")
            throw EvalError("\(command) ... failed (\(how)): \(standardError.suffix(2000))")
        }
        let cpu = Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        return Run(wall: wall, cpu: cpu, peakMiB: Double(usage.ru_maxrss) / 1024, standardError: standardError)
    }
}
