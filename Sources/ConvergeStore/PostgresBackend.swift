import Foundation
import Logging
import NIOSSL
import PostgresKit
import SQLKit

/// PostgreSQL through postgres-nio: one connection per store.
struct PostgresBackend: SQLBackend {
    let connection: PostgresConnection
    let sql: any SQLDatabase
    let location: String
    var beginWrite: String { "BEGIN" }

    /// Connects (10 s timeout).
    ///
    /// - Throws: ``StoreError/authentication(location:reason:)`` for a wrong user or password,
    ///   ``StoreError/unavailable(location:reason:)`` for a server that cannot be reached or a missing database.
    static func connect(_ target: DatabaseURL.PostgresLocation, location: String, logger: Logger) async throws
        -> PostgresBackend {
        let tls: PostgresConnection.Configuration.TLS
        do {
            switch target.sslMode {
            case "disable": tls = .disable
            case "require": tls = .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
            default: tls = .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
            }
        } catch {
            throw StoreError.unavailable(location: location, reason: "cannot set up TLS")
        }
        var configuration = PostgresConnection.Configuration(host: target.host, port: target.port,
                                                             username: target.user, password: target.password,
                                                             database: target.database, tls: tls)
        configuration.options.connectTimeout = .seconds(10)
        do {
            let connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
            return PostgresBackend(connection: connection, sql: connection.sql(queryLogLevel: .trace),
                                   location: location)
        } catch {
            throw Self.translate(error, location: location)
        }
    }

    func lockForMigration(on db: any SQLDatabase) async throws {
        // One lock id for Converge's schema (an arbitrary constant: "cnvg" in ASCII).
        try await db.raw("SELECT pg_advisory_xact_lock(1668183655)").run()
    }

    func translate(_ error: any Error) -> StoreError { Self.translate(error, location: location) }

    /// Reads only the server's message and SQLSTATE, so a password can never reach the message.
    static func translate(_ error: any Error, location: String) -> StoreError {
        if let error = error as? StoreError { return error }
        guard let error = error as? PSQLError else {
            return .unavailable(location: location, reason: String(describing: type(of: error)))
        }
        let message = error.serverInfo?[.message] ?? ""
        switch error.serverInfo?[.sqlState] {
        case "28P01", "28000":
            return .authentication(location: location, reason: message)
        case "3D000":
            return .unavailable(location: location, reason: message)
        case "57P01", "57P02", "57P03":
            // The server is shutting down, crashed or starting up: away for now, not a wrong request.
            return .unavailable(location: location, reason: message)
        case "25006":
            return .readOnly(location: location)
        case "53100":
            return .full(location: location)
        case .some(let state):
            return .database(location: location, reason: "\(message) (SQLSTATE \(state))")
        case nil:
            break
        }
        switch error.code {
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown:
            var reason = "the server cannot be reached"
            let detail = error.underlying.map { String(describing: $0).lowercased() } ?? ""
            if detail.contains("refused") {
                reason += " (connection refused: is it running, on this host and port?)"
            } else if detail.contains("timed out") || detail.contains("timeout") {
                reason += " (the connection timed out)"
            } else if detail.contains("resolve") || detail.contains("host") {
                reason += " (the host name does not resolve)"
            }
            return .unavailable(location: location, reason: reason)
        case .authMechanismRequiresPassword:
            return .authentication(location: location, reason: "the server asks for a password and the URL has none")
        case .sslUnsupported:
            return .unavailable(location: location, reason: "the server does not support TLS (add ?sslmode=disable)")
        default:
            return .database(location: location, reason: error.code.description)
        }
    }

    var isClosed: Bool { connection.isClosed }
    var statementTimeout: Duration { .seconds(20) }

    func isConnectionLost(_ error: any Error) -> Bool {
        if case .unavailable = error as? StoreError { return true }
        guard let error = error as? PSQLError else { return false }
        return [.serverClosedConnection, .clientClosedConnection, .connectionError, .uncleanShutdown].contains(error.code)
            || error.serverInfo?[.sqlState]?.hasPrefix("57P") == true  // admin shutdown, crash shutdown
    }

    func close() async {
        try? await connection.close()
    }
}
