import Foundation

/// Everything Converge keeps about surveys, on SQLite or PostgreSQL (``openStore(_:logger:)``).
///
/// Every write is one transaction: a crash (even SIGKILL) leaves each row either written whole or not at
/// all. Implementations serialise their own use of the connection and are safe to share across tasks; many
/// processes may use one database at once (SQLite waits for the write lock instead of failing with
/// "database is locked"; PostgreSQL takes row locks).
public protocol SurveyStore: Sendable {
    /// The database, for messages (`sqlite:/path`, `postgres://user@host:5432/db`; never a password).
    var location: String { get }

    /// Creates a survey with its first turns.
    /// - Throws: ``StoreError``.
    func createSurvey(_ survey: StoredSurvey, turns: [String]) async throws

    /// Appends a turn (a follow-up) and returns its index.
    func appendTurn(surveyID: String, prompt: String) async throws -> Int

    func setStatus(surveyID: String, _ status: SurveyStatus) async throws

    /// Sets the survey's owner to `owner` (`nil` releases it) if it is still `expected`: a compare-and-set, so
    /// that of two processes resuming one survey at once only one goes on.
    /// - Returns: whether the owner was changed.
    func claim(surveyID: String, owner: String?, expected: String?) async throws -> Bool

    /// Replaces the runner's spec JSON (a resume may change settings such as the timeout).
    func updateSpec(surveyID: String, _ spec: Data) async throws

    /// Writes a request as pending before it is sent. An answered row is left as it is (answers are never
    /// replaced by a pending row); a failed or pending row becomes pending again with the new request.
    func recordPending(surveyID: String, key: StoredRequestKey, cacheKey: String, request: Data) async throws

    /// Stores an answer (from the network, or from the cache when `fromCache`).
    func recordAnswer(surveyID: String, key: StoredRequestKey, cacheKey: String, request: Data,
                      response: StoredResponse, attempts: Int, fromCache: Bool) async throws

    /// Stores a failure. Failures are never used as cache entries.
    func recordFailure(surveyID: String, key: StoredRequestKey, cacheKey: String, request: Data,
                       error: String, attempts: Int) async throws

    /// The newest stored answer to a request with this cache key, from any survey.
    func cachedResponse(cacheKey: String) async throws -> StoredResponse?

    /// Stores the answer to a request Converge itself made for a survey (a judge) under its cache key,
    /// replacing an earlier one with that key. Deleted with the survey.
    /// - Throws: ``StoreError`` (``StoreError/notFound(_:)`` for an unknown survey).
    func recordModelCall(surveyID: String, cacheKey: String, request: Data, response: StoredResponse) async throws

    /// The newest stored answer to a model call (``recordModelCall(surveyID:cacheKey:request:response:)``)
    /// with this cache key, from any survey.
    func cachedModelCall(cacheKey: String) async throws -> StoredResponse?

    /// Keeps sentence vectors computed for a survey's analysis under `model` (the encoder's cache identity) and
    /// each text's hash, replacing an entry kept before under the same key. Deleted with the survey.
    /// - Parameter vectors: text hash → vector (any length; stored as little-endian Float32, bit for bit; read
    ///   back only when every value is finite).
    /// - Throws: ``StoreError`` (``StoreError/notFound(_:)`` for an unknown survey).
    func recordEmbeddings(surveyID: String, model: String, vectors: [String: [Float]]) async throws

    /// The vectors kept under `model` for any of `hashes`, from any survey, by hash (absent hashes are missing).
    func cachedEmbeddings(model: String, hashes: [String]) async throws -> [String: [Float]]

    /// Every vector kept for `surveyID` under `model`, by text hash.
    func embeddings(surveyID: String, model: String) async throws -> [String: [Float]]

    /// Stores an analysis (the report JSON and the engine that made it).
    func saveAnalysis(_ analysis: StoredAnalysis) async throws

    /// The newest analysis of a survey.
    func latestAnalysis(surveyID: String) async throws -> StoredAnalysis?

    /// Surveys, newest first.
    func surveys(limit: Int, offset: Int) async throws -> [StoredSurvey]

    /// The survey with this id, or with this unique id prefix (at least 4 characters).
    /// - Throws: ``StoreError/notFound(_:)``, ``StoreError/ambiguous(_:matches:)``.
    func survey(id: String) async throws -> StoredSurvey

    func turns(surveyID: String) async throws -> [StoredTurn]

    /// Every request row of a survey, by turn, panelist and sample.
    func requests(surveyID: String) async throws -> [StoredRequest]

    /// Deletes a survey with its turns, requests and analyses.
    /// - Throws: ``StoreError/notFound(_:)``.
    func deleteSurvey(id: String) async throws

    /// Creates a batch with its items (the items' surveys are created first, with ``createSurvey(_:turns:)``).
    /// - Throws: ``StoreError``.
    func createBatch(_ batch: StoredBatch) async throws

    /// Batches with their items, newest first.
    func batches(limit: Int, offset: Int) async throws -> [StoredBatch]

    /// The batch with this id, or with this unique id prefix (at least 4 characters).
    /// - Throws: ``StoreError/batchNotFound(_:)``, ``StoreError/ambiguous(_:matches:)``.
    func batch(id: String) async throws -> StoredBatch

    /// Deletes a batch and its items (not their surveys: ``deleteSurvey(id:)`` each).
    /// - Throws: ``StoreError/batchNotFound(_:)``.
    func deleteBatch(id: String) async throws

    /// The schema version the database is at.
    func schemaVersion() async throws -> Int

    /// Closes the connection; the store is unusable afterwards.
    func close() async
}

/// What can go wrong with the store. Messages name the database (never its password) and say what to do.
public enum StoreError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The `--db` / `CONVERGE_DATABASE_URL` value is not a database URL.
    case invalidURL(String, reason: String)
    /// The database could not be opened or reached.
    case unavailable(location: String, reason: String)
    /// The server refused the credentials.
    case authentication(location: String, reason: String)
    /// The file is not a SQLite database (or is damaged).
    case corrupt(location: String, reason: String)
    /// The database cannot be written.
    case readOnly(location: String)
    /// The disk holding the database is full (SQLite `SQLITE_FULL`, PostgreSQL SQLSTATE 53100): the write that
    /// failed was rolled back whole; earlier ones are kept.
    case full(location: String)
    /// The database was written by a newer Converge.
    case newerSchema(location: String, found: Int, supported: Int)
    case notFound(String)
    /// No batch with this id (or id prefix).
    case batchNotFound(String)
    case ambiguous(String, matches: [String])
    /// Any other database error.
    case database(location: String, reason: String)
    /// The work queue (`converge worker`, `--queue`) needs PostgreSQL; this database is SQLite.
    case queueNeedsPostgres(location: String)

    public var description: String {
        switch self {
        case .invalidURL(let url, let reason):
            return "invalid database URL `\(url)`: \(reason) (use sqlite:PATH or postgres://USER@HOST:PORT/DB)"
        case .unavailable(let location, let reason):
            return "cannot open the database \(location): \(reason)"
        case .authentication(let location, let reason):
            return "the database \(location) refused the credentials: \(reason)"
        case .corrupt(let location, let reason):
            return "the database \(location) is not a Converge database or is damaged (\(reason)); it was left as it is"
        case .readOnly(let location):
            return "the database \(location) is read-only; nothing was written"
        case .full(let location):
            return "the disk holding the database \(location) is full; this write was not kept (earlier ones are), free space and try again"
        case .newerSchema(let location, let found, let supported):
            return "the database \(location) has schema version \(found), newer than this converge supports (\(supported)); upgrade converge"
        case .notFound(let id):
            return "no survey with id `\(id)` (see `converge surveys list`)"
        case .batchNotFound(let id):
            return "no batch with id `\(id)` (see `converge batches list`)"
        case .ambiguous(let prefix, let matches):
            return "the id prefix `\(prefix)` matches several surveys: \(matches.joined(separator: ", "))"
        case .database(let location, let reason):
            return "database error on \(location): \(reason)"
        case .queueNeedsPostgres(let location):
            return "the work queue (converge worker, --queue) needs PostgreSQL (--db postgres://...); \(location) is "
                + "SQLite, whose surveys are asked in-process: drop --queue"
        }
    }
}
