import Foundation

/// A throwaway PostgreSQL cluster for tests: `initdb` in a temporary folder, started on a free loopback port
/// with password authentication (scram-sha-256), removed by ``stop()`` (and at process exit).
///
/// The server binaries are looked up in `CONVERGE_PG_BIN`, then `/usr/lib/postgresql/*/bin` (newest first),
/// then `PATH`. PostgreSQL refuses to run as root, so when the tests run as root the cluster belongs to the
/// `postgres` user (created by Debian's postgresql package) and its commands run through `runuser`.
package final class PostgresTestCluster: @unchecked Sendable {
    package let port: Int
    package let user = "converge"
    package let password: String
    package let folder: URL
    private let bin: String
    private let runAs: String?
    private var stopped = false
    private let lock = NSLock()

    /// `postgres://converge:PASSWORD@127.0.0.1:PORT/DATABASE`.
    package func url(database: String = "converge") -> String {
        "postgres://\(user):\(password)@127.0.0.1:\(port)/\(database)"
    }

    /// Why a cluster cannot be made here, or `nil` when the binaries are present.
    package static var unavailableReason: String? {
        findBinaries() == nil ? "PostgreSQL server binaries (initdb, pg_ctl) not found; install Debian's postgresql" : nil
    }

    /// One cluster per test process, started on first use and stopped at exit.
    package static func shared() throws -> PostgresTestCluster {
        try sharedLock.withLock {
            if let cluster = sharedCluster { return cluster }
            let cluster = try PostgresTestCluster()
            sharedCluster = cluster
            atexit { PostgresTestCluster.sharedCluster?.stop() }
            return cluster
        }
    }

    nonisolated(unsafe) private static var sharedCluster: PostgresTestCluster?
    private static let sharedLock = NSLock()

    /// Makes and starts a cluster with one database, `converge`.
    package init() throws {
        guard let bin = Self.findBinaries() else {
            throw ClusterError(Self.unavailableReason ?? "no PostgreSQL")
        }
        self.bin = bin
        self.runAs = geteuid() == 0 ? "postgres" : nil
        self.password = "pw-" + UUID().uuidString.prefix(12).lowercased()
        self.folder = URL(fileURLWithPath: "/tmp").appendingPathComponent("converge-pg-\(UUID().uuidString.prefix(8))")
        self.port = try Self.freePort()
        let data = folder.appendingPathComponent("data").path
        let socket = folder.appendingPathComponent("socket").path
        let pwfile = folder.appendingPathComponent("pwfile").path
        try FileManager.default.createDirectory(atPath: socket, withIntermediateDirectories: true)
        try Data(password.utf8).write(to: URL(fileURLWithPath: pwfile))
        if let runAs { try Self.shell(["chown", "-R", "\(runAs):\(runAs)", folder.path]) }
        try run("initdb", ["-D", data, "-U", user, "--pwfile=\(pwfile)", "--auth=scram-sha-256", "-E", "UTF8",
                           "--locale=C", "--no-sync"])
        try start()
        try run("psql", ["-h", "127.0.0.1", "-p", "\(port)", "-U", user, "-d", "postgres", "-v", "ON_ERROR_STOP=1",
                         "-c", "CREATE DATABASE converge"], password: password)
    }

    private func start(_ action: String = "start") throws {
        let socket = folder.appendingPathComponent("socket").path
        try run("pg_ctl", ["-D", folder.appendingPathComponent("data").path, "-l", folder.appendingPathComponent("log").path,
                           "-w", "-t", "60", "-m", "fast", "-o",
                           "-p \(port) -k \(socket) -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
                           action])
    }

    /// Restarts the server (fast shutdown: every client connection is closed), as an administrator would.
    package func restart() throws { try start("restart") }

    /// Stops the server (fast shutdown: connections are closed), keeping its data: an outage that
    /// ``startAgain()`` ends.
    package func stopServer() throws {
        try run("pg_ctl", ["-D", folder.appendingPathComponent("data").path, "-m", "fast", "-w", "stop"])
    }

    /// Starts the server stopped by ``stopServer()``.
    package func startAgain() throws { try start() }

    /// Creates another database in the cluster.
    package func createDatabase(_ name: String) throws {
        try run("psql", ["-h", "127.0.0.1", "-p", "\(port)", "-U", user, "-d", "postgres", "-v", "ON_ERROR_STOP=1",
                         "-c", "CREATE DATABASE \"\(name)\""], password: password)
    }

    /// Stops the server and removes its folder.
    package func stop() {
        lock.lock()
        defer { lock.unlock() }
        guard !stopped else { return }
        stopped = true
        try? run("pg_ctl", ["-D", folder.appendingPathComponent("data").path, "-m", "immediate", "-w", "stop"])
        try? FileManager.default.removeItem(at: folder)
    }

    private func run(_ tool: String, _ arguments: [String], password: String? = nil) throws {
        var command = ["\(bin)/\(tool)"] + arguments
        if let runAs { command = ["runuser", "-u", runAs, "--"] + command }
        try Self.shell(command, environment: password.map { ["PGPASSWORD": $0] } ?? [:])
    }

    /// Runs `command` (looked up in PATH) and waits for it; its output goes to a file that is read back.
    ///
    /// posix_spawn + waitpid rather than Foundation's `Process`: the server that `pg_ctl start` leaves running
    /// inherits the child's descriptors, and `Process` would wait for those to close, that is, forever.
    @discardableResult
    static func shell(_ command: [String], environment: [String: String] = [:]) throws -> String {
        let log = "/tmp/converge-pg-cmd-\(UUID().uuidString).log"
        defer { unlink(log) }
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = command.map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let spawned = posix_spawnp(&pid, command[0], &actions, nil, argv, envp)
        guard spawned == 0 else { throw ClusterError("cannot run \(command[0]): \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        let exited = (status & 0x7f) == 0
        let code = (status >> 8) & 0xff
        guard exited && code == 0 else {
            let shown = command.filter { !$0.hasPrefix("--pwfile") }.joined(separator: " ")
            throw ClusterError("`\(shown)` failed (status \(status)): \(text)")
        }
        return text
    }

    static func findBinaries() -> String? {
        let fm = FileManager.default
        var candidates: [String] = []
        if let explicit = ProcessInfo.processInfo.environment["CONVERGE_PG_BIN"] { candidates.append(explicit) }
        if let versions = try? fm.contentsOfDirectory(atPath: "/usr/lib/postgresql") {
            candidates += versions.sorted { (Int($0) ?? 0) > (Int($1) ?? 0) }.map { "/usr/lib/postgresql/\($0)/bin" }
        }
        candidates += (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        return candidates.first { fm.isExecutableFile(atPath: "\($0)/initdb") && fm.isExecutableFile(atPath: "\($0)/pg_ctl") }
    }

    /// A port that was free a moment ago (bound to 0, read, closed).
    package static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ClusterError("socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw ClusterError("could not find a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    package struct ClusterError: Error, CustomStringConvertible {
        package var description: String
        init(_ description: String) { self.description = description }
    }
}
