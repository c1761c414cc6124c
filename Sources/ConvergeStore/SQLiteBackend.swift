import Foundation
import Logging
import NIOPosix
import SQLKit
import SQLiteKit

/// SQLite through sqlite-nio: one connection to a file, in WAL mode, with a 30 s busy timeout so that
/// concurrent processes wait for each other instead of failing with "database is locked".
struct SQLiteBackend: SQLBackend {
    let connection: SQLiteConnection
    /// The connection's own thread: SQLite blocks its caller while it waits for another writer, and on a
    /// shared pool two waiting connections could hold every thread that the lock holder needs to finish.
    let threadPool: NIOThreadPool
    let sql: any SQLDatabase
    let location: String
    var beginWrite: String { "BEGIN IMMEDIATE" }

    /// Opens (creating it and its folder if missing) the database file at `path`.
    ///
    /// - Throws: ``StoreError/corrupt(location:reason:)`` for a file that is not a database,
    ///   ``StoreError/readOnly(location:)``, ``StoreError/unavailable(location:reason:)``.
    static func open(path: String, logger: Logger) async throws -> SQLiteBackend {
        let location = "sqlite:\(path)"
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw StoreError.unavailable(location: location, reason: "it is a folder")
        }
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty, !FileManager.default.fileExists(atPath: folder) {
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            } catch {
                throw StoreError.unavailable(location: location, reason: "cannot create its folder \(folder)")
            }
        }
        if FileManager.default.fileExists(atPath: path), access(path, W_OK) != 0 {
            throw StoreError.readOnly(location: location)
        }
        let threadPool = NIOThreadPool(numberOfThreads: 1)
        threadPool.start()
        let connection: SQLiteConnection
        do {
            connection = try await SQLiteConnection.open(storage: .file(path: path), threadPool: threadPool,
                                                         logger: logger, on: MultiThreadedEventLoopGroup.singleton.any())
        } catch {
            try? await threadPool.shutdownGracefully()
            throw Self.translate(error, location: location)
        }
        let backend = SQLiteBackend(connection: connection, threadPool: threadPool,
                                    sql: connection.sql(queryLogLevel: .trace), location: location)
        do {
            // busy_timeout replaces sqlite-nio's spinning busy handler with SQLite's sleeping one.
            _ = try await connection.query("PRAGMA busy_timeout = 30000")
            // Reading the schema here finds a file that is not a database before anything writes to it, and a
            // database of something else (tables, but not Converge's) is refused before it is changed.
            let tables = try await connection.query(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
                .compactMap { $0.column("name")?.string }
            if !tables.isEmpty && !tables.contains("converge_schema") {
                throw StoreError.corrupt(location: location,
                                         reason: "it holds other tables (\(tables.prefix(3).joined(separator: ", ")))")
            }
            _ = try await connection.query("PRAGMA journal_mode = WAL")
            // In WAL mode NORMAL syncs at checkpoints, not at every commit: a killed process still loses no
            // committed transaction (they are in the WAL file); only a power cut may lose the last few.
            _ = try await connection.query("PRAGMA synchronous = NORMAL")
            _ = try await connection.query("PRAGMA foreign_keys = ON")
        } catch {
            await backend.close()
            throw backend.translate(error)
        }
        return backend
    }

    func lockForMigration(on db: any SQLDatabase) async throws {}  // BEGIN IMMEDIATE already holds the write lock

    func translate(_ error: any Error) -> StoreError { Self.translate(error, location: location) }

    static func translate(_ error: any Error, location: String) -> StoreError {
        if let error = error as? StoreError { return error }
        guard let error = error as? SQLiteError else {
            return .database(location: location, reason: String(describing: error))
        }
        switch error.reason {
        case .notADatabase, .corrupt, .corruptIndex, .corruptSequenceSchema, .corruptVirtualTable:
            return .corrupt(location: location, reason: error.message)
        case .readOnly, .readonlyCantLock, .readonlyDirectory, .readonlyInRecovery, .readonlyInRollback,
             .readonlyBackingMoved, .permission:
            return .readOnly(location: location)
        case .full:
            return .full(location: location)
        case .cantOpen, .cantOpenDirectory, .cantOpenInvalidPath, .cantOpenUnfollowedSymlink:
            return .unavailable(location: location, reason: error.message)
        default:
            return .database(location: location, reason: error.message)
        }
    }

    func isConnectionLost(_ error: any Error) -> Bool { false }  // a file does not go away like a socket
    var isClosed: Bool { false }
    /// Longer than the 30 s busy timeout, so that waiting for another process's write lock is never cut short.
    var statementTimeout: Duration { .seconds(45) }

    func close() async {
        try? await connection.close()
        try? await threadPool.shutdownGracefully()
    }
}
