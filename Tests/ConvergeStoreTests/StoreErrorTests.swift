import ConvergeStore
import ConvergeTestSupport
import Foundation
import Testing

/// Bad databases: a clear error naming the database, and the database left as it was.
@Suite(.serialized) struct StoreErrorTests {
    @Test func aFileThatIsNotADatabaseIsReportedAndLeftAlone() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("converge-corrupt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent("converge.sqlite").path
        let garbage = Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) })
        try garbage.write(to: URL(fileURLWithPath: path))
        do {
            _ = try await openStore(.sqlite(path: path))
            Issue.record("a garbage file opened as a database")
        } catch let error as StoreError {
            guard case .corrupt(let location, _) = error else {
                Issue.record("expected .corrupt, got \(error)")
                return
            }
            #expect(location == "sqlite:\(path)")
            #expect(error.description.contains("left as it is"))
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == garbage)
    }

    @Test func aFolderIsNotADatabase() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("converge-dir-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        await #expect(throws: StoreError.unavailable(location: "sqlite:\(folder.path)", reason: "it is a folder")) {
            _ = try await openStore(.sqlite(path: folder.path))
        }
    }

    @Test func aDatabaseFromANewerConvergeIsRefusedUntouched() async throws {
        let url = try Backend.sqlite.freshURL()
        let store = try await openStore(url)
        let survey = sampleSurvey()
        try await store.createSurvey(survey, turns: [survey.prompt])
        await store.close()
        guard case .sqlite(let path) = url else { return }
        // What a future version would have written.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", """
            import sqlite3, sys
            c = sqlite3.connect(sys.argv[1]); c.execute("INSERT INTO converge_schema VALUES (99, 'future', 0)"); c.commit()
            """, path]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        await #expect(throws: StoreError.newerSchema(location: url.description, found: 99, supported: 7)) {
            _ = try await openStore(url)
        }
    }

    @Test func anUnreachableServerIsReportedWithoutThePassword() async throws {
        let port = try PostgresTestCluster.freePort()
        let url = try DatabaseURL(parsing: "postgres://converge:s3cret-pw@127.0.0.1:\(port)/converge")
        do {
            _ = try await openStore(url)
            Issue.record("connected to nothing")
        } catch let error as StoreError {
            guard case .unavailable = error else {
                Issue.record("expected .unavailable, got \(error)")
                return
            }
            #expect(!error.description.contains("s3cret-pw"))
            #expect(error.description.contains("127.0.0.1:\(port)"))
        }
    }

    @Test(.enabled(if: PostgresTestCluster.unavailableReason == nil))
    func aWrongPasswordIsAnAuthenticationError() async throws {
        let cluster = try PostgresTestCluster.shared()
        let url = try DatabaseURL(parsing: "postgres://converge:wrong-pw-123@127.0.0.1:\(cluster.port)/converge")
        do {
            _ = try await openStore(url)
            Issue.record("a wrong password was accepted")
        } catch let error as StoreError {
            guard case .authentication = error else {
                Issue.record("expected .authentication, got \(error)")
                return
            }
            #expect(!error.description.contains("wrong-pw-123"))
            #expect(!error.description.contains(cluster.password))
        }
        // A database that does not exist.
        let missing = try DatabaseURL(parsing: cluster.url(database: "no_such_db"))
        await #expect(throws: StoreError.self) { _ = try await openStore(missing) }
    }

    @Test func urlsParseAndNeverShowThePassword() throws {
        let url = try DatabaseURL(parsing: "postgresql://alice:p%40ss@db.example:6543/panels?sslmode=require")
        guard case .postgres(let location) = url else {
            Issue.record("not postgres")
            return
        }
        #expect(location.user == "alice" && location.password == "p@ss" && location.port == 6543)
        #expect(location.database == "panels" && location.sslMode == "require")
        #expect(url.description == "postgres://alice@db.example:6543/panels")
        #expect(try DatabaseURL(parsing: "sqlite:/tmp/x.db") == .sqlite(path: "/tmp/x.db"))
        #expect(try DatabaseURL(parsing: "sqlite:///tmp/x.db") == .sqlite(path: "/tmp/x.db"))
        for bad in ["mysql://a@b/c", "postgres://alice:pw@/db", "postgres://alice:pw@host", "sqlite:",
                    "postgres://a:pw@h/db?sslmode=maybe", "postgres://a:pw@h/db?foo=1",
                    // Found by a fresh-user pass: URLs that do not parse used to be echoed whole.
                    "postgres://conv:pgS3cret!@127.0.0.1:notaport/conv", "postgres://conv:SECRET#pw@h/db",
                    "postgres://conv:pw@[::1:55432/db", "postgres://conv:pw@127.0.0.1:99999/conv"] {
            #expect(throws: StoreError.self) { try DatabaseURL(parsing: bad) }
            do { _ = try DatabaseURL(parsing: bad) } catch {
                let message = String(describing: error)
                #expect(!message.contains(":pw@") && !message.contains("S3cret") && !message.contains("SECRET"), "\(message)")
            }
        }
        #expect(try DatabaseURL.resolve(flag: nil, environment: ["XDG_DATA_HOME": "/d"]) ==
                .sqlite(path: "/d/converge/converge.sqlite"))
        #expect(try DatabaseURL.resolve(flag: nil, environment: ["HOME": "/h", "CONVERGE_DATABASE_URL": "sqlite:/e.db"]) ==
                .sqlite(path: "/e.db"))
        #expect(try DatabaseURL.resolve(flag: "sqlite:/f.db", environment: ["CONVERGE_DATABASE_URL": "sqlite:/e.db"]) ==
                .sqlite(path: "/f.db"))
    }
}
