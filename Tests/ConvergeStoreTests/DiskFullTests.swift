import ConvergeStore
import ConvergeTestSupport
import Foundation
import Testing

/// The disk holding a SQLite store fills up: a size-limited tmpfs the test mounts (needs root with
/// CAP_SYS_ADMIN, as in CI; elsewhere the test says why it did not run).
@Suite struct DiskFullTests {
    /// A tmpfs of `kilobytes` at a new folder, or why none could be mounted.
    static func mount(kilobytes: Int) -> (URL?, String) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("converge-full-\(UUID().uuidString.prefix(8))")
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let result = try? ChildProcess.run(URL(fileURLWithPath: "/usr/bin/env"),
                                           ["mount", "-t", "tmpfs", "-o", "size=\(kilobytes)k", "tmpfs", folder.path])
        guard let result, result.status == 0 else {
            try? FileManager.default.removeItem(at: folder)
            return (nil, "cannot mount a tmpfs: \(result?.stderr ?? "mount not run")")
        }
        return (folder, "")
    }

    static func remount(_ folder: URL, kilobytes: Int) throws {
        let result = try ChildProcess.run(URL(fileURLWithPath: "/usr/bin/env"),
                                          ["mount", "-o", "remount,size=\(kilobytes)k", folder.path])
        #expect(result.status == 0, "\(result.stderr)")
    }

    static let canMount: Bool = {
        let (folder, _) = mount(kilobytes: 64)
        guard let folder else { return false }
        _ = try? ChildProcess.run(URL(fileURLWithPath: "/usr/bin/env"), ["umount", folder.path])
        try? FileManager.default.removeItem(at: folder)
        return true
    }()

    @Test(.enabled(if: canMount, "needs root with CAP_SYS_ADMIN to mount a size-limited tmpfs"))
    func aFullDiskIsAClearErrorLosesNothingWrittenAndRecoversWhenSpaceReturns() async throws {
        let (mounted, reason) = Self.mount(kilobytes: 512)
        let folder = try #require(mounted, "\(reason)")
        defer {
            _ = try? ChildProcess.run(URL(fileURLWithPath: "/usr/bin/env"), ["umount", folder.path])
            try? FileManager.default.removeItem(at: folder)
        }
        let path = folder.appendingPathComponent("converge.sqlite").path
        let url = try DatabaseURL(parsing: "sqlite:" + path)
        let store = try await openStore(url)
        let survey = sampleSurvey()
        try await store.createSurvey(survey, turns: [survey.prompt])
        let answer = StoredResponse(text: String(repeating: "Measure before you cache. ", count: 400), latencyMs: 5)
        var written = 0
        var failure: (any Error)?
        for n in 0..<1_000 {
            do {
                try await store.recordAnswer(surveyID: survey.id, key: StoredRequestKey(turn: 0, panelistID: "p\(n)", sample: 0),
                                             cacheKey: "k\(n)", request: sampleRequest, response: answer, attempts: 1,
                                             fromCache: false)
                written += 1
            } catch {
                failure = error
                break
            }
        }
        #expect(written > 10, "the volume holds some answers first")
        let error = try #require(failure as? StoreError, "\(String(describing: failure))")
        #expect(error == .full(location: url.description))
        #expect(error.description.contains("is full") && error.description.contains("free space"))

        // What was written before stays whole and readable; the database is not damaged.
        #expect(try await store.requests(surveyID: survey.id).count == written)
        let check = try await ChildProcess.run(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", """
            import sqlite3, sys
            print(sqlite3.connect(sys.argv[1]).execute("PRAGMA integrity_check").fetchone()[0])
            """, path])
        #expect(check.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "ok", "\(check.stdout)\(check.stderr)")

        // Space returns: the next write succeeds, without reopening.
        try Self.remount(folder, kilobytes: 8192)
        try await store.recordAnswer(surveyID: survey.id, key: StoredRequestKey(turn: 0, panelistID: "after", sample: 0),
                                     cacheKey: "after", request: sampleRequest, response: answer, attempts: 1, fromCache: false)
        #expect(try await store.requests(surveyID: survey.id).count == written + 1)
        await store.close()
        let reopened = try await openStore(url)
        #expect(try await reopened.requests(surveyID: survey.id).count == written + 1)
        await reopened.close()
    }
}
