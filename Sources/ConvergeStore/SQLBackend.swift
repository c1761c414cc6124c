import Logging
import SQLKit

/// What differs between SQLite and PostgreSQL under ``SQLSurveyStore``: the connection, how a write
/// transaction begins, the migration lock, and how driver errors read.
protocol SQLBackend: Sendable {
    /// The SQLKit view of the one connection.
    var sql: any SQLDatabase { get }
    /// For messages; never holds a password.
    var location: String { get }
    /// `BEGIN IMMEDIATE` on SQLite (takes the write lock at once, so two writers never deadlock on an
    /// upgrade), `BEGIN` on PostgreSQL.
    var beginWrite: String { get }
    /// Serialises migrations between processes (inside the migration transaction).
    func lockForMigration(on db: any SQLDatabase) async throws
    /// A driver error as a ``StoreError`` with a message a person can act on.
    func translate(_ error: any Error) -> StoreError
    /// Whether the connection is known to be closed (by the server, or the network).
    var isClosed: Bool { get }
    /// How long one statement may take before its connection is given up as lost.
    var statementTimeout: Duration { get }
    /// Whether `error` means the connection is gone (it is then replaced before the next operation).
    func isConnectionLost(_ error: any Error) -> Bool
    func close() async
}
