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
    func close() async
}
