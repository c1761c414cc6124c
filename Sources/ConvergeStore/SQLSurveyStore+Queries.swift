import Foundation
import Logging
import SQLKit

/// The store's statements: the schema, surveys, turns, requests and analyses, each in a transaction (or, for
/// the schema, on one connection) of the pool in SQLSurveyStore.swift.
extension SQLSurveyStore {
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
            // PostgreSQL reads committed rows: without the row lock two processes could both read the old owner
            // and both take the survey (found by WorkerFaultTests under load). SQLite's write lock serialises.
            let lock = isPostgres ? " FOR UPDATE" : ""
            let row = try await db.raw("SELECT owner FROM surveys WHERE id = \(bind: surveyID)\(unsafeRaw: lock)").first()
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

    func requireSurvey(_ id: String, _ db: any SQLDatabase) async throws {
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
            // Ids are 26 characters: a longer "prefix" is no id (and SQLite refuses LIKE patterns over 50,000 bytes).
            let cleaned = id.lowercased()
            guard (4...64).contains(cleaned.count), cleaned.allSatisfy({ $0.isLetter || $0.isNumber }) else {
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
            for table in ["embeddings", "queue_jobs", "model_calls", "analyses", "requests", "turns"] {
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

    /// The statement that stores an answer to the request `key` of a survey: a new answered row, or an update of
    /// its pending or failed row (and of an answered one: callers that must never replace an answer add a
    /// `WHERE requests.state <> 'answered'` after it).
    static func answerUpsert(surveyID: String, key: StoredRequestKey, cacheKey: String, request: Data,
                             response: StoredResponse, attempts: Int, fromCache: Bool, now: Int) -> SQLQueryString {
        """
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
        """
    }

    func recordAnswer(surveyID: String, key: StoredRequestKey, cacheKey: String, request: Data,
                      response: StoredResponse, attempts: Int, fromCache: Bool) async throws {
        let now = Self.now()
        try await transaction { db in
            try await db.raw(Self.answerUpsert(surveyID: surveyID, key: key, cacheKey: cacheKey, request: request,
                                               response: response, attempts: attempts, fromCache: fromCache, now: now)).run()
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

    func recordModelCall(surveyID: String, cacheKey: String, request: Data, response: StoredResponse) async throws {
        let now = Self.now()
        try await transaction { db in
            try await requireSurvey(surveyID, db)
            try await db.raw("""
                INSERT INTO model_calls (survey_id, cache_key, request, response_text, latency_ms, input_tokens, \
                output_tokens, finish_reason, provider_request_id, response_model, created_at) VALUES \
                (\(bind: surveyID), \(bind: cacheKey), \(bind: String(decoding: request, as: UTF8.self)), \
                \(bind: response.text), \(bind: response.latencyMs), \(bind: response.inputTokens), \
                \(bind: response.outputTokens), \(bind: response.finishReason), \(bind: response.requestID), \
                \(bind: response.model), \(bind: now)) \
                ON CONFLICT (survey_id, cache_key) DO UPDATE SET request = excluded.request, \
                response_text = excluded.response_text, latency_ms = excluded.latency_ms, \
                input_tokens = excluded.input_tokens, output_tokens = excluded.output_tokens, \
                finish_reason = excluded.finish_reason, provider_request_id = excluded.provider_request_id, \
                response_model = excluded.response_model, created_at = excluded.created_at
                """).run()
        }
    }

    func cachedModelCall(cacheKey: String) async throws -> StoredResponse? {
        try await exclusive { db in
            guard let row = try await db.raw("""
                SELECT * FROM model_calls WHERE cache_key = \(bind: cacheKey) ORDER BY created_at DESC LIMIT 1
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
            // A survey deleted while it was being analysed is `notFound`, not a foreign key violation.
            try await requireSurvey(analysis.surveyID, db)
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
}
