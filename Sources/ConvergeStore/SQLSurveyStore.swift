import Foundation
import Logging
import SQLKit

/// Opens the store at `url` and brings its schema up to date.
///
/// - Parameters:
///   - url: `sqlite:PATH` (the file and its folder are created if missing) or `postgres://...`.
///   - schemaVersion: migrate only up to this version (tests of upgrades); the latest by default.
/// - Throws: ``StoreError``: unavailable, authentication, corrupt, readOnly, newerSchema.
public func openStore(_ url: DatabaseURL, schemaVersion: Int? = nil,
                      logger: Logger = Logger(label: "converge.store")) async throws -> any SurveyStore {
    let store: SQLSurveyStore
    switch url {
    case .sqlite(let path):
        // One connection: SQLite has one writer at a time anyway.
        store = SQLSurveyStore(first: try await SQLiteBackend.open(path: path, logger: logger))
    case .postgres(let target):
        // Up to `postgresConnections`, opened as concurrent operations need them, so that concurrent commits
        // share the server's WAL flushes (group commit) instead of queueing behind each other.
        let location = url.description
        store = SQLSurveyStore(first: try await PostgresBackend.connect(target, location: location, logger: logger),
                               maxConnections: postgresConnections) {
            try await PostgresBackend.connect(target, location: location, logger: logger)
        }
    }
    do {
        try await store.migrate(upTo: schemaVersion ?? Migrations.latest)
    } catch {
        await store.close()
        throw error
    }
    return store
}

/// The most connections one PostgreSQL store opens (a server allows 100 by default, shared by every process).
let postgresConnections = 4

/// The one ``SurveyStore`` implementation, over SQLKit; ``SQLBackend`` holds what differs between SQLite
/// and PostgreSQL. Statements are written in the SQL both accept, with SQLKit's binds.
actor SQLSurveyStore: SurveyStore {
    private var backends: [any SQLBackend]
    private let maxConnections: Int
    private let connect: (@Sendable () async throws -> any SQLBackend)?
    private var connecting = 0
    nonisolated let location: String
    /// Whether the database is PostgreSQL (the work queue needs it).
    nonisolated let isPostgres: Bool
    // Each operation (one transaction) holds one connection from start to end: actor methods interleave at
    // every `await`, so the actor alone would not keep a transaction's statements together.
    private var free: [Int]
    private var waiters: [CheckedContinuation<Int, Never>] = []

    /// - Parameters:
    ///   - first: the connection opened to check the database.
    ///   - maxConnections: how many `connect` may open in all, when operations overlap.
    init(first: any SQLBackend, maxConnections: Int = 1,
         connect: (@Sendable () async throws -> any SQLBackend)? = nil) {
        self.backends = [first]
        self.location = first.location
        self.isPostgres = first is PostgresBackend
        self.free = [0]
        self.maxConnections = maxConnections
        self.connect = connect
    }

    /// The first connection (the only one for SQLite).
    var backend: any SQLBackend { backends[0] }

    // MARK: transactions

    private func acquire() async -> Int {
        if let index = free.popLast() { return index }
        if let connect, backends.count + connecting < maxConnections {
            connecting += 1
            let opened = try? await connect()
            connecting -= 1
            if let opened {
                backends.append(opened)
                return backends.count - 1
            }
        }
        return await withCheckedContinuation { waiters.append($0) }  // release() hands a connection over
    }

    private func release(_ index: Int) {
        if waiters.isEmpty { free.append(index) } else { waiters.removeFirst().resume(returning: index) }
    }

    /// Runs `body` on a connection of its own, mapping driver errors. A connection found closed or lost (a
    /// server that restarted, a statement past its deadline) is replaced by a new one, and `body` runs once
    /// more on it: every write here is an upsert inside one transaction, so running it again is safe.
    func exclusive<T: Sendable>(_ body: (any SQLDatabase) async throws -> T) async throws -> T {
        let index = await acquire()
        var retried = false
        while true {
            if backends[index].isClosed { await reconnect(index) }
            let connection = backends[index]
            do {
                let value = try await body(GuardedDatabase(base: connection.sql, timeout: connection.statementTimeout,
                                                           location: location))
                release(index)
                return value
            } catch {
                if !retried, connect != nil, connection.isConnectionLost(error), await reconnect(index) {
                    retried = true
                    continue
                }
                release(index)
                throw backend.translate(error)
            }
        }
    }

    /// Replaces connection `index` by a new one (the old one is closed in the background).
    /// - Returns: whether a new connection is in place.
    @discardableResult
    private func reconnect(_ index: Int) async -> Bool {
        guard let connect else { return false }
        let old = backends[index]
        Task { [location] in _ = try? await withDeadline(.seconds(5), location: location) { await old.close() } }
        guard let fresh = try? await withDeadline(.seconds(10), location: location, connect) else { return false }
        backends[index] = fresh
        return true
    }

    /// Runs `body` in one write transaction: all of it is stored, or none.
    func transaction<T: Sendable>(_ body: (any SQLDatabase) async throws -> T) async throws -> T {
        try await exclusive { db in
            try await db.raw(SQLQueryString(backend.beginWrite)).run()
            do {
                let value = try await body(db)
                try await db.raw("COMMIT").run()
                return value
            } catch {
                try? await db.raw("ROLLBACK").run()
                throw error
            }
        }
    }

    func close() async {
        // Waits for every operation in flight, then closes each connection.
        while connecting > 0 { await Task.yield() }
        for _ in backends { _ = await acquire() }
        for backend in backends {
            _ = try? await withDeadline(.seconds(5), location: location) { await backend.close() }
        }
    }
}
