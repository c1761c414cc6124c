import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import SQLKit

/// An `SQLDatabase` whose every statement has a deadline: a connection that stops answering (a server that
/// restarted, a socket nobody closed) fails the statement with ``StoreError/unavailable(location:reason:)``
/// instead of hanging the survey. The statement itself is not cancelled (drivers may ignore that); it is left
/// to end on its own, and the connection is replaced (``SQLSurveyStore``).
///
/// Cancellation of the calling task is deliberately not honoured: an answer that arrives while the user presses
/// Ctrl-C must still be stored.
struct GuardedDatabase: SQLDatabase {
    let base: any SQLDatabase
    let timeout: Duration
    let location: String

    var logger: Logger { base.logger }
    var eventLoop: any EventLoop { base.eventLoop }
    var version: (any SQLDatabaseReportedVersion)? { base.version }
    var dialect: any SQLDialect { base.dialect }
    var queryLogLevel: Logger.Level? { base.queryLogLevel }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> ()) -> EventLoopFuture<Void> {
        base.execute(sql: query, onRow)
    }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> ()) async throws {
        let base = self.base
        try await withDeadline(timeout, location: location) { try await base.execute(sql: query, onRow) }
    }
}

/// Runs `operation` and returns its result, or throws ``StoreError/unavailable(location:reason:)`` once
/// `limit` has passed without one (the operation then runs on unobserved).
func withDeadline<T: Sendable>(_ limit: Duration, location: String,
                               _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
    let once = Once<T>()
    return try await withCheckedThrowingContinuation { continuation in
        once.set(continuation)
        let timer = Task {
            try? await Task.sleep(for: limit)
            if !Task.isCancelled {
                once.resume(.failure(StoreError.unavailable(
                    location: location, reason: "no answer within \(limit.components.seconds) s")))
            }
        }
        Task {
            let result: Result<T, any Error>
            do { result = .success(try await operation()) } catch { result = .failure(error) }
            timer.cancel()
            once.resume(result)
        }
    }
}

/// A continuation resumed at most once, by whichever of its racers comes first.
private final class Once<T: Sendable>: Sendable {
    private let state = NIOLockedValueBox<(continuation: CheckedContinuation<T, any Error>?, done: Bool)>((nil, false))

    func set(_ continuation: CheckedContinuation<T, any Error>) {
        state.withLockedValue { $0.continuation = continuation }
    }

    func resume(_ result: Result<T, any Error>) {
        let continuation = state.withLockedValue { state -> CheckedContinuation<T, any Error>? in
            guard !state.done else { return nil }
            state.done = true
            return state.continuation
        }
        continuation?.resume(with: result)
    }
}
