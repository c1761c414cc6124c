import Metrics
import Prometheus

/// Metrics for `GET /metrics`: swift-metrics backed by a Prometheus registry (swift-prometheus).
///
/// Exposed (Prometheus text format 0.0.4; names sanitized to `[a-zA-Z0-9_:]`):
/// - `hb_requests{http_route, http_request_method, http_response_status_code}`: requests answered (Hummingbird's
///   `MetricsMiddleware`), with `hb_request_errors` and `http_server_active_requests`;
/// - `http_server_request_duration` (histogram, seconds) by route, method and status;
/// - `converge_analyses{format}`: analyses made, and `converge_analysis_duration` (histogram, seconds).
package final class ServerMetrics: Sendable {
    /// The process's registry. swift-metrics has one global backend, bootstrapped here the first time this is
    /// used; every application built in the process reports into it.
    package static let shared = ServerMetrics()

    package let registry: PrometheusCollectorRegistry

    private init() {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.nameAndLabelSanitizer = { name, labels in
            (Self.sanitize(name, allowColon: true), labels.map { (Self.sanitize($0.0, allowColon: false), $0.1) })
        }
        MetricsSystem.bootstrap(factory)
        self.registry = registry
    }

    /// The exposition text.
    package func exposition() -> [UInt8] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }

    /// Replaces every character Prometheus does not allow in a metric (or label) name with `_`.
    static func sanitize(_ name: String, allowColon: Bool) -> String {
        var scalars = name.unicodeScalars.map { scalar -> Character in
            let ok = scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar)
                || scalar == "_" || (allowColon && scalar == ":"))
            return ok ? Character(scalar) : "_"
        }
        if let first = scalars.first, first.isNumber { scalars.insert("_", at: 0) }
        return String(scalars)
    }

    /// Records one analysis.
    func recordAnalysis(format: String, duration: Duration) {
        Counter(label: "converge_analyses", dimensions: [("format", format)]).increment()
        Timer(label: "converge_analysis_duration", preferredDisplayUnit: .seconds)
            .recordNanoseconds(duration.nanoseconds)
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
