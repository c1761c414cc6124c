import Foundation
import Synchronization

/// What the soak's clients saw: per route, latencies and statuses; the failures that fail the run; the surveys
/// created. Shared by every client task.
final class SoakRecord: Sendable {
    /// The state of the system under test, which decides whether an error is a failure or expected.
    enum Phase: Sendable, Equatable {
        case normal
        /// Between a SIGKILL of the server and its restart: connections are refused.
        case serverDown
        /// The database is stopped, and a few seconds after it is back: 503s are documented.
        case databaseDown
        /// The disk holding the SQLite database is full, and a few seconds after: 503s are documented.
        case diskFull
    }

    struct Route: Sendable {
        var latencies: [Double] = []
        var statuses: [Int: Int] = [:]
        var refused = 0
    }

    private struct State {
        var routes: [String: Route] = [:]
        var failures: [String] = []
        var expected503 = 0
        var surveys: [String: String] = [:]  // id -> prompt
        var phase = Phase.normal
        var baseURL = ""
        var requests = 0
    }

    private let state = Mutex(State())

    init(baseURL: String) { state.withLock { $0.baseURL = baseURL } }

    var baseURL: String {
        get { state.withLock { $0.baseURL } }
        set { state.withLock { $0.baseURL = newValue } }
    }

    var phase: Phase {
        get { state.withLock { $0.phase } }
        set { state.withLock { $0.phase = newValue } }
    }

    /// Counts a request against `limit`; `false` once the budget is spent.
    func take(limit: Int) -> Bool {
        state.withLock {
            guard $0.requests < limit else { return false }
            $0.requests += 1
            return true
        }
    }

    var requestCount: Int { state.withLock { $0.requests } }

    /// One answered request. A 5xx is a failure, except a 503 while the database is down or the disk full
    /// (documented).
    func answered(_ route: String, status: Int, seconds: Double, expected: Set<Int>) {
        state.withLock {
            $0.routes[route, default: Route()].latencies.append(seconds)
            $0.routes[route, default: Route()].statuses[status, default: 0] += 1
            if status == 503 && ($0.phase == .databaseDown || $0.phase == .diskFull) {
                $0.expected503 += 1
            } else if !expected.contains(status) {
                $0.failures.append("\(route): HTTP \(status) (expected \(expected.sorted().map(String.init).joined(separator: "/")))")
            }
        }
    }

    /// A request to `base` that got no HTTP answer: expected while the server is down or when it went to the
    /// server before its restart, a failure otherwise.
    func unanswered(_ route: String, base: String, error: any Error) {
        state.withLock {
            $0.routes[route, default: Route()].refused += 1
            if $0.phase == .normal && base == $0.baseURL { $0.failures.append("\(route): no answer (\(error))") }
        }
    }

    func fail(_ message: String) { state.withLock { $0.failures.append(message) } }

    func created(survey id: String, prompt: String) { state.withLock { $0.surveys[id] = prompt } }

    var surveys: [String: String] { state.withLock { $0.surveys } }
    var failures: [String] { state.withLock { $0.failures } }
    var routes: [String: Route] { state.withLock { $0.routes } }
    var expected503: Int { state.withLock { $0.expected503 } }

    /// A survey id seen so far, chosen by `index` (for readers), if any.
    func someSurvey(_ index: Int) -> String? {
        state.withLock { state in
            let ids = state.surveys.keys.sorted()
            return ids.isEmpty ? nil : ids[index % ids.count]
        }
    }
}
