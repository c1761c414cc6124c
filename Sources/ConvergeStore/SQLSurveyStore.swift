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
        self.free = [0]
        self.maxConnections = maxConnections
        self.connect = connect
    }

    private var backend: any SQLBackend { backends[0] }

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
    private func exclusive<T: Sendable>(_ body: (any SQLDatabase) async throws -> T) async throws -> T {
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
    private func transaction<T: Sendable>(_ body: (any SQLDatabase) async throws -> T) async throws -> T {
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

    // MARK: schema

    func migrate(upTo target: Int) async throws {
        // A read first: an up-to-date database needs no write lock (and a read-only one can still be read).
        if let current = try? await exclusive({ db in try await self.readVersion(db) }) {
            if current > Migrations.latest {
                throw StoreError.newerSchema(location: location, found: current, supported: Migrations.latest)
            }
            if current >= target { return }
        }
        try await transaction { db in
            try await backend.lockForMigration(on: db)
            try await db.raw("""
                CREATE TABLE IF NOT EXISTS converge_schema (version BIGINT PRIMARY KEY, summary TEXT NOT NULL, \
                applied_at BIGINT NOT NULL)
                """).run()
            let current = try await readVersion(db)
            if current > Migrations.latest {
                throw StoreError.newerSchema(location: location, found: current, supported: Migrations.latest)
            }
            for step in Migrations.steps where step.version > current && step.version <= target {
                for statement in step.statements { try await db.raw(SQLQueryString(statement)).run() }
                try await db.raw("""
                    INSERT INTO converge_schema (version, summary, applied_at) VALUES \
                    (\(bind: step.version), \(bind: step.summary), \(bind: Self.now()))
                    """).run()
            }
        }
    }

    private func readVersion(_ db: any SQLDatabase) async throws -> Int {
        let row = try await db.raw("SELECT max(version) AS version FROM converge_schema").first()
        return try row?.decodeNil(column: "version") == false ? row!.decode(column: "version", as: Int.self) : 0
    }

    func schemaVersion() async throws -> Int {
        try await exclusive { db in
            do {
                return try await readVersion(db)
            } catch {
                return 0  // no converge_schema table yet
            }
        }
    }

    // MARK: surveys

    func createSurvey(_ survey: StoredSurvey, turns: [String]) async throws {
        try await transaction { db in
            try await db.raw("""
                INSERT INTO surveys (id, status, created_at, updated_at, prompt, panel_size, spec) VALUES (\
                \(bind: survey.id), \(bind: survey.status.rawValue), \(bind: Self.millis(survey.createdAt)), \
                \(bind: Self.millis(survey.updatedAt)), \(bind: survey.prompt), \(bind: survey.panelSize), \
                \(bind: String(decoding: survey.spec, as: UTF8.self)))
                """).run()
            for (index, prompt) in turns.enumerated() {
                try await db.raw("""
                    INSERT INTO turns (survey_id, turn_index, prompt, created_at) VALUES \
                    (\(bind: survey.id), \(bind: index), \(bind: prompt), \(bind: Self.millis(survey.createdAt)))
                    """).run()
            }
        }
    }

    func appendTurn(surveyID: String, prompt: String) async throws -> Int {
        try await transaction { db in
            try await requireSurvey(surveyID, db)
            let row = try await db.raw("""
                SELECT count(*) AS n FROM turns WHERE survey_id = \(bind: surveyID)
                """).first()
            let index = try row?.decode(column: "n", as: Int.self) ?? 0
            try await db.raw("""
                INSERT INTO turns (survey_id, turn_index, prompt, created_at) VALUES \
                (\(bind: surveyID), \(bind: index), \(bind: prompt), \(bind: Self.now()))
                """).run()
            try await touch(surveyID, status: .running, db)
            return index
        }
    }

    func setStatus(surveyID: String, _ status: SurveyStatus) async throws {
        try await transaction { db in try await touch(surveyID, status: status, db) }
    }

    func claim(surveyID: String, owner: String?, expected: String?) async throws -> Bool {
        try await transaction { db in
            let row = try await db.raw("SELECT owner FROM surveys WHERE id = \(bind: surveyID)").first()
            guard let row else { throw StoreError.notFound(surveyID) }
            guard try row.decode(column: "owner", as: String?.self) == expected else { return false }
            try await db.raw("""
                UPDATE surveys SET owner = \(bind: owner), updated_at = \(bind: Self.now()) WHERE id = \(bind: surveyID)
                """).run()
            return true
        }
    }

    func updateSpec(surveyID: String, _ spec: Data) async throws {
        try await transaction { db in
            try await db.raw("""
                UPDATE surveys SET spec = \(bind: String(decoding: spec, as: UTF8.self)), \
                updated_at = \(bind: Self.now()) WHERE id = \(bind: surveyID)
                """).run()
        }
    }

    private func touch(_ surveyID: String, status: SurveyStatus, _ db: any SQLDatabase) async throws {
        try await db.raw("""
            UPDATE surveys SET status = \(bind: status.rawValue), updated_at = \(bind: Self.now()) \
            WHERE id = \(bind: surveyID)
            """).run()
    }

    private func requireSurvey(_ id: String, _ db: any SQLDatabase) async throws {
        let row = try await db.raw("SELECT id FROM surveys WHERE id = \(bind: id)").first()
        if row == nil { throw StoreError.notFound(id) }
    }

    func surveys(limit: Int, offset: Int) async throws -> [StoredSurvey] {
        try await exclusive { db in
            try await db.raw("""
                SELECT * FROM surveys ORDER BY created_at DESC, id DESC \
                LIMIT \(bind: max(0, limit)) OFFSET \(bind: max(0, offset))
                """).all().map(Self.survey(from:))
        }
    }

    func survey(id: String) async throws -> StoredSurvey {
        try await exclusive { db in
            if let row = try await db.raw("SELECT * FROM surveys WHERE id = \(bind: id)").first() {
                return try Self.survey(from: row)
            }
            // A unique prefix of at least 4 characters, as with git; LIKE wildcards in the input are escaped.
            let cleaned = id.lowercased()
            guard cleaned.count >= 4, cleaned.allSatisfy({ $0.isLetter || $0.isNumber }) else {
                throw StoreError.notFound(id)
            }
            let rows = try await db.raw("""
                SELECT * FROM surveys WHERE id LIKE \(bind: cleaned + "%") ORDER BY id LIMIT 6
                """).all()
            switch rows.count {
            case 0: throw StoreError.notFound(id)
            case 1: return try Self.survey(from: rows[0])
            default: throw StoreError.ambiguous(id, matches: try rows.map { try $0.decode(column: "id", as: String.self) })
            }
        }
    }

    func deleteSurvey(id: String) async throws {
        try await transaction { db in
            try await requireSurvey(id, db)
            // Children first, explicitly: SQLite enforces ON DELETE CASCADE only with foreign_keys on.
            for table in ["analyses", "requests", "turns"] {
                try await db.raw("DELETE FROM \(unsafeRaw: table) WHERE survey_id = \(bind: id)").run()
            }
            try await db.raw("DELETE FROM surveys WHERE id = \(bind: id)").run()
        }
    }

    func turns(surveyID: String) async throws -> [StoredTurn] {
        try await exclusive { db in
            try await db.raw("""
                SELECT * FROM turns WHERE survey_id = \(bind: surveyID) ORDER BY turn_index
                """).all().map { row in
                StoredTurn(index: try row.decode(column: "turn_index", as: Int.self),
                           prompt: try row.decode(column: "prompt", as: String.self),
                           createdAt: Self.date(try row.decode(column: "created_at", as: Int.self)))
            }
        }
    }

    // MARK: requests

    func recordPending(surveyID: String, key: StoredRequestKey, cacheKey: String, request: Data) async throws {
        let now = Self.now()
        try await transaction { db in
            try await db.raw("""
                INSERT INTO requests (survey_id, turn_index, panelist_id, sample, state, cache_key, request, \
                attempts, from_cache, created_at, updated_at) VALUES (\(bind: surveyID), \(bind: key.turn), \
                \(bind: key.panelistID), \(bind: key.sample), 'pending', \(bind: cacheKey), \
                \(bind: String(decoding: request, as: UTF8.self)), 0, 0, \(bind: now), \(bind: now)) \
                ON CONFLICT (survey_id, turn_index, panelist_id, sample) DO UPDATE SET state = 'pending', \
                cache_key = excluded.cache_key, request = excluded.request, error = NULL, \
                updated_at = excluded.updated_at WHERE requests.state <> 'answered'
                """).run()
        }
    }

    func recordAnswer(surveyID: String, key: StoredRequestKey, cacheKey: String, request: Data,
                      response: StoredResponse, attempts: Int, fromCache: Bool) async throws {
        let now = Self.now()
        try await transaction { db in
            try await db.raw("""
                INSERT INTO requests (survey_id, turn_index, panelist_id, sample, state, cache_key, request, \
                response_text, latency_ms, input_tokens, output_tokens, finish_reason, provider_request_id, \
                response_model, attempts, from_cache, created_at, updated_at) VALUES (\(bind: surveyID), \
                \(bind: key.turn), \(bind: key.panelistID), \(bind: key.sample), 'answered', \(bind: cacheKey), \
                \(bind: String(decoding: request, as: UTF8.self)), \(bind: response.text), \
                \(bind: response.latencyMs), \(bind: response.inputTokens), \(bind: response.outputTokens), \
                \(bind: response.finishReason), \(bind: response.requestID), \(bind: response.model), \
                \(bind: attempts), \(bind: fromCache ? 1 : 0), \(bind: now), \(bind: now)) \
                ON CONFLICT (survey_id, turn_index, panelist_id, sample) DO UPDATE SET state = 'answered', \
                cache_key = excluded.cache_key, request = excluded.request, \
                response_text = excluded.response_text, latency_ms = excluded.latency_ms, \
                input_tokens = excluded.input_tokens, output_tokens = excluded.output_tokens, \
                finish_reason = excluded.finish_reason, provider_request_id = excluded.provider_request_id, \
                response_model = excluded.response_model, error = NULL, attempts = excluded.attempts, \
                from_cache = excluded.from_cache, updated_at = excluded.updated_at
                """).run()
        }
    }

    func recordFailure(surveyID: String, key: StoredRequestKey, cacheKey: String, request: Data,
                       error: String, attempts: Int) async throws {
        let now = Self.now()
        try await transaction { db in
            try await db.raw("""
                INSERT INTO requests (survey_id, turn_index, panelist_id, sample, state, cache_key, request, \
                error, attempts, from_cache, created_at, updated_at) VALUES (\(bind: surveyID), \
                \(bind: key.turn), \(bind: key.panelistID), \(bind: key.sample), 'failed', \(bind: cacheKey), \
                \(bind: String(decoding: request, as: UTF8.self)), \(bind: error), \(bind: attempts), 0, \
                \(bind: now), \(bind: now)) \
                ON CONFLICT (survey_id, turn_index, panelist_id, sample) DO UPDATE SET state = 'failed', \
                error = excluded.error, attempts = excluded.attempts, updated_at = excluded.updated_at \
                WHERE requests.state <> 'answered'
                """).run()
        }
    }

    func cachedResponse(cacheKey: String) async throws -> StoredResponse? {
        try await exclusive { db in
            guard let row = try await db.raw("""
                SELECT * FROM requests WHERE cache_key = \(bind: cacheKey) AND state = 'answered' \
                ORDER BY updated_at DESC LIMIT 1
                """).first() else { return nil }
            return try Self.response(from: row)
        }
    }

    func requests(surveyID: String) async throws -> [StoredRequest] {
        try await exclusive { db in
            try await db.raw("""
                SELECT * FROM requests WHERE survey_id = \(bind: surveyID) \
                ORDER BY turn_index, panelist_id, sample
                """).all().map { row in
                let state = RequestState(rawValue: try row.decode(column: "state", as: String.self)) ?? .pending
                return StoredRequest(
                    key: StoredRequestKey(turn: try row.decode(column: "turn_index", as: Int.self),
                                          panelistID: try row.decode(column: "panelist_id", as: String.self),
                                          sample: try row.decode(column: "sample", as: Int.self)),
                    state: state,
                    cacheKey: try row.decode(column: "cache_key", as: String.self),
                    request: Data(try row.decode(column: "request", as: String.self).utf8),
                    response: state == .answered ? try Self.response(from: row) : nil,
                    error: try row.decode(column: "error", as: String?.self),
                    attempts: try row.decode(column: "attempts", as: Int.self),
                    fromCache: try row.decode(column: "from_cache", as: Int.self) != 0,
                    updatedAt: Self.date(try row.decode(column: "updated_at", as: Int.self)))
            }
        }
    }

    // MARK: analyses

    func saveAnalysis(_ analysis: StoredAnalysis) async throws {
        try await transaction { db in
            try await db.raw("""
                INSERT INTO analyses (id, survey_id, turn_index, engine, created_at, report) VALUES \
                (\(bind: UUID().uuidString.lowercased()), \(bind: analysis.surveyID), \(bind: analysis.turn), \
                \(bind: analysis.engine), \(bind: Self.millis(analysis.createdAt)), \
                \(bind: String(decoding: analysis.report, as: UTF8.self)))
                """).run()
        }
    }

    func latestAnalysis(surveyID: String) async throws -> StoredAnalysis? {
        try await exclusive { db in
            guard let row = try await db.raw("""
                SELECT * FROM analyses WHERE survey_id = \(bind: surveyID) \
                ORDER BY created_at DESC, id DESC LIMIT 1
                """).first() else { return nil }
            return StoredAnalysis(surveyID: surveyID, turn: try row.decode(column: "turn_index", as: Int.self),
                                  engine: try row.decode(column: "engine", as: String.self),
                                  createdAt: Self.date(try row.decode(column: "created_at", as: Int.self)),
                                  report: Data(try row.decode(column: "report", as: String.self).utf8))
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

    // MARK: rows

    private static func survey(from row: any SQLRow) throws -> StoredSurvey {
        StoredSurvey(id: try row.decode(column: "id", as: String.self),
                     status: SurveyStatus(rawValue: try row.decode(column: "status", as: String.self)) ?? .running,
                     createdAt: date(try row.decode(column: "created_at", as: Int.self)),
                     updatedAt: date(try row.decode(column: "updated_at", as: Int.self)),
                     prompt: try row.decode(column: "prompt", as: String.self),
                     panelSize: try row.decode(column: "panel_size", as: Int.self),
                     spec: Data(try row.decode(column: "spec", as: String.self).utf8),
                     owner: (try? row.decode(column: "owner", as: String?.self)) ?? nil)
    }

    private static func response(from row: any SQLRow) throws -> StoredResponse {
        StoredResponse(text: try row.decode(column: "response_text", as: String.self),
                       latencyMs: try row.decode(column: "latency_ms", as: Int?.self) ?? 0,
                       inputTokens: try row.decode(column: "input_tokens", as: Int?.self),
                       outputTokens: try row.decode(column: "output_tokens", as: Int?.self),
                       finishReason: try row.decode(column: "finish_reason", as: String?.self),
                       requestID: try row.decode(column: "provider_request_id", as: String?.self),
                       model: try row.decode(column: "response_model", as: String?.self))
    }

    static func millis(_ date: Date) -> Int { Int((date.timeIntervalSince1970 * 1000).rounded()) }
    static func now() -> Int { millis(Date()) }
    static func date(_ millis: Int) -> Date { Date(timeIntervalSince1970: Double(millis) / 1000) }
}
