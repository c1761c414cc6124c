import ConvergeTestSupport
import Foundation

/// The disk-full fault of the soak on SQLite: the server's folder (its database among it) is a size-limited
/// tmpfs the soak mounts (root with CAP_SYS_ADMIN, as in CI), and the disk is made full by remounting it with
/// no room beyond what is in use, then given its space back.
struct SoakVolume: Sendable {
    let folder: URL
    /// The volume's size when space is there.
    static let kilobytes = 1 << 20

    /// Mounts a tmpfs at `folder` (an empty folder); `nil` and why when it cannot.
    static func mount(at folder: URL) async -> (SoakVolume?, String) {
        let result = try? await ChildProcess.run(URL(fileURLWithPath: "/usr/bin/env"),
                                                 ["mount", "-t", "tmpfs", "-o", "size=\(kilobytes)k", "tmpfs", folder.path])
        guard let result, result.status == 0 else {
            return (nil, "cannot mount a tmpfs (needs root with CAP_SYS_ADMIN): \(result?.stderr ?? "mount not run")")
        }
        return (SoakVolume(folder: folder), "")
    }

    /// Kilobytes in use on the volume.
    func usedKilobytes() -> Int {
        var stats = statvfs()
        guard statvfs(folder.path, &stats) == 0 else { return Self.kilobytes }
        return Int((UInt64(stats.f_blocks) - UInt64(stats.f_bfree)) * UInt64(stats.f_frsize) / 1024)
    }

    /// The disk full: the volume shrunk to what is in use (a new page of the database or its log cannot be
    /// written). Returns the size set, in kilobytes.
    func fill() async throws -> Int {
        let used = usedKilobytes()
        try await remount(kilobytes: max(used, 4))
        return used
    }

    /// The space back.
    func free() async throws { try await remount(kilobytes: Self.kilobytes) }

    func remount(kilobytes: Int) async throws {
        let result = try await ChildProcess.run(URL(fileURLWithPath: "/usr/bin/env"),
                                                ["mount", "-o", "remount,size=\(kilobytes)k", folder.path])
        guard result.status == 0 else { throw VolumeError(message: "remount to \(kilobytes) KiB: \(result.stderr)") }
    }

    func unmount() async {
        _ = try? await ChildProcess.run(URL(fileURLWithPath: "/usr/bin/env"), ["umount", folder.path])
    }

    /// SQLite's `PRAGMA integrity_check` of the database at `path` (python3's sqlite3): `ok` when undamaged.
    static func integrity(ofSQLite path: String) async -> String {
        let check = try? await ChildProcess.run(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", """
            import sqlite3, sys
            print(sqlite3.connect(sys.argv[1]).execute("PRAGMA integrity_check").fetchone()[0])
            """, path])
        guard let check else { return "python3 not run" }
        return (check.stdout + check.stderr).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    struct VolumeError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }
}
