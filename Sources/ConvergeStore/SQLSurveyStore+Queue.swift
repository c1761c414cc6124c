import Foundation
import SQLKit

/// The work queue's statements (PostgreSQL only: ``workQueue(_:)`` refuses SQLite), each one transaction.
/// Times are the database's clock in Unix milliseconds, so workers on machines whose clocks differ agree on
/// when a lease expires.
extension SQLSurveyStore: WorkQueue {
    func enqueue(_ jobs: [QueueJob]) async throws {
        try await transaction { db in
            let now = try await Self.databaseNow(db)
            for job in jobs {
                try await db.raw("""
                    INSERT INTO queue_jobs (id, survey_id, panelist_id, sample, limit_key, limit_max, use_cache, state, \
                    claims, created_at, updated_at) VALUES (\(bind: job.id), \(bind: job.surveyID), \(bind: job.panelistID), \
                    \(bind: job.sample), \(bind: job.limitKey), \(bind: job.limitMax), \(bind: job.useCache ? 1 : 0), \
                    'queued', 0, \(bind: now), \(bind: now)) \
                    ON CONFLICT (id) DO UPDATE SET state = 'queued', limit_key = excluded.limit_key, \
                    limit_max = excluded.limit_max, use_cache = excluded.use_cache, lease_owner = NULL, lease_token = NULL, \
                    lease_expires = NULL, updated_at = excluded.updated_at WHERE queue_jobs.state <> 'leased'
                    """).run()
            }
        }
    }

    func claim(worker: String, max: Int, lease: Duration, accepting: @Sendable (String) -> Bool) async throws -> [LeasedJob] {
        guard max > 0 else { return [] }
        let leaseMs = Self.milliseconds(lease)
        let keys = try await exclusive { db in
            let now = try await Self.databaseNow(db)
            return try await db.raw("""
                SELECT DISTINCT limit_key FROM queue_jobs WHERE state = 'queued' \
                OR (state = 'leased' AND lease_expires <= \(bind: now))
                """).all().map { try $0.decode(column: "limit_key", as: String.self) }
        }
        var claimed: [LeasedJob] = []
        for key in keys.shuffled() where claimed.count < max && accepting(key) {
            let wanted = max - claimed.count
            claimed += try await transaction { db in
                // One claimer per provider at a time: the count of live leases and the claim are one step, for
                // every worker. Rows are locked (and skipped when another transaction holds them) as they are taken.
                try await db.raw("SELECT pg_advisory_xact_lock(hashtext(\(bind: "converge.queue:" + key)))").run()
                let now = try await Self.databaseNow(db)
                guard let counts = try await db.raw("""
                    SELECT count(*) FILTER (WHERE state = 'leased' AND lease_expires > \(bind: now)) AS busy, \
                    min(limit_max) AS cap FROM queue_jobs WHERE limit_key = \(bind: key) AND state <> 'done'
                    """).first(), let cap = try counts.decode(column: "cap", as: Int?.self) else { return [] }
                let room = min(wanted, cap - (try counts.decode(column: "busy", as: Int.self)))
                guard room > 0 else { return [] }
                return try await db.raw("""
                    UPDATE queue_jobs SET state = 'leased', lease_owner = \(bind: worker), \
                    lease_token = \(bind: worker + "#") || (claims + 1)::text || '#' || id, lease_expires = \(bind: now + leaseMs), \
                    claims = claims + 1, updated_at = \(bind: now) \
                    WHERE id IN (SELECT id FROM queue_jobs WHERE limit_key = \(bind: key) AND (state = 'queued' \
                    OR (state = 'leased' AND lease_expires <= \(bind: now))) ORDER BY created_at, id \
                    LIMIT \(bind: room) FOR UPDATE SKIP LOCKED) RETURNING *
                    """).all().map { row in
                    LeasedJob(job: try Self.job(from: row), token: try row.decode(column: "lease_token", as: String.self),
                              claims: try row.decode(column: "claims", as: Int.self))
                }
            }
        }
        return claimed
    }

    func extend(_ tokens: [String], lease: Duration) async throws -> Set<String> {
        guard !tokens.isEmpty else { return [] }
        let leaseMs = Self.milliseconds(lease)
        return try await transaction { db in
            let now = try await Self.databaseNow(db)
            return Set(try await db.raw("""
                UPDATE queue_jobs SET lease_expires = \(bind: now + leaseMs), updated_at = \(bind: now) \
                WHERE state = 'leased' AND lease_token IN (\(binds: tokens)) RETURNING lease_token
                """).all().map { try $0.decode(column: "lease_token", as: String.self) })
        }
    }

    func recordLeasedAnswer(_ lease: LeasedJob, key: StoredRequestKey, cacheKey: String, request: Data,
                            response: StoredResponse, attempts: Int, fromCache: Bool) async throws -> Bool {
        try await transaction { db in
            guard try await Self.holds(lease, db) else { return false }
            let now = try await Self.databaseNow(db)
            // Never over a stored answer: an answer is written once.
            let upsert = Self.answerUpsert(surveyID: lease.job.surveyID, key: key, cacheKey: cacheKey, request: request,
                                           response: response, attempts: attempts, fromCache: fromCache, now: now)
            return try await db.raw(upsert + " WHERE requests.state <> 'answered' RETURNING survey_id").first() != nil
        }
    }

    func recordLeasedFailure(_ lease: LeasedJob, key: StoredRequestKey, cacheKey: String, request: Data,
                             error: String, attempts: Int) async throws -> Bool {
        try await transaction { db in
            guard try await Self.holds(lease, db) else { return false }
            let now = try await Self.databaseNow(db)
            return try await db.raw("""
                INSERT INTO requests (survey_id, turn_index, panelist_id, sample, state, cache_key, request, \
                error, attempts, from_cache, created_at, updated_at) VALUES (\(bind: lease.job.surveyID), \
                \(bind: key.turn), \(bind: key.panelistID), \(bind: key.sample), 'failed', \(bind: cacheKey), \
                \(bind: String(decoding: request, as: UTF8.self)), \(bind: error), \(bind: attempts), 0, \
                \(bind: now), \(bind: now)) \
                ON CONFLICT (survey_id, turn_index, panelist_id, sample) DO UPDATE SET state = 'failed', \
                error = excluded.error, attempts = excluded.attempts, updated_at = excluded.updated_at \
                WHERE requests.state <> 'answered' RETURNING survey_id
                """).first() != nil
        }
    }

    func complete(_ lease: LeasedJob) async throws -> Bool {
        try await transaction { db in
            let now = try await Self.databaseNow(db)
            return try await db.raw("""
                UPDATE queue_jobs SET state = 'done', lease_expires = NULL, updated_at = \(bind: now) \
                WHERE id = \(bind: lease.job.id) AND lease_token = \(bind: lease.token) AND state = 'leased' RETURNING id
                """).first() != nil
        }
    }

    func release(_ tokens: [String]) async throws {
        guard !tokens.isEmpty else { return }
        try await transaction { db in
            let now = try await Self.databaseNow(db)
            try await db.raw("""
                UPDATE queue_jobs SET state = 'queued', lease_owner = NULL, lease_token = NULL, lease_expires = NULL, \
                updated_at = \(bind: now) WHERE state = 'leased' AND lease_token IN (\(binds: tokens))
                """).run()
        }
    }

    func jobs(surveyIDs: [String]) async throws -> [QueueJobStatus] {
        guard !surveyIDs.isEmpty else { return [] }
        return try await exclusive { db in
            let now = try await Self.databaseNow(db)
            var result: [QueueJobStatus] = []
            for start in stride(from: 0, to: surveyIDs.count, by: 500) {
                let chunk = Array(surveyIDs[start..<min(start + 500, surveyIDs.count)])
                for row in try await db.raw("""
                    SELECT * FROM queue_jobs WHERE survey_id IN (\(binds: chunk)) ORDER BY created_at, id
                    """).all() {
                    let state = QueueJobState(rawValue: try row.decode(column: "state", as: String.self)) ?? .queued
                    let expires = try row.decode(column: "lease_expires", as: Int?.self)
                    result.append(QueueJobStatus(job: try Self.job(from: row), state: state,
                                                 owner: try row.decode(column: "lease_owner", as: String?.self),
                                                 claims: try row.decode(column: "claims", as: Int.self),
                                                 live: state == .leased && (expires ?? 0) > now))
                }
            }
            return result
        }
    }

    // MARK: helpers

    /// Locks the job's row and says whether `lease` still holds it.
    private static func holds(_ lease: LeasedJob, _ db: any SQLDatabase) async throws -> Bool {
        try await db.raw("""
            SELECT id FROM queue_jobs WHERE id = \(bind: lease.job.id) AND lease_token = \(bind: lease.token) \
            AND state = 'leased' FOR UPDATE
            """).first() != nil
    }

    /// The database's clock, Unix milliseconds.
    private static func databaseNow(_ db: any SQLDatabase) async throws -> Int {
        let row = try await db.raw("SELECT (extract(epoch from clock_timestamp()) * 1000)::bigint AS now").first()
        return try row?.decode(column: "now", as: Int.self) ?? Self.now()
    }

    private static func milliseconds(_ duration: Duration) -> Int {
        Int(duration.components.seconds) * 1000 + Int(duration.components.attoseconds / 1_000_000_000_000_000)
    }

    private static func job(from row: any SQLRow) throws -> QueueJob {
        QueueJob(surveyID: try row.decode(column: "survey_id", as: String.self),
                 panelistID: try row.decode(column: "panelist_id", as: String.self),
                 sample: try row.decode(column: "sample", as: Int.self),
                 limitKey: try row.decode(column: "limit_key", as: String.self),
                 limitMax: try row.decode(column: "limit_max", as: Int.self),
                 useCache: try row.decode(column: "use_cache", as: Int.self) != 0)
    }
}
