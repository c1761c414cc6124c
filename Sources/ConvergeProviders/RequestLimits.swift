/// The ranges every front end (`converge ask`, `surveys resume`, `follow-up`, the config file, the HTTP API and
/// the start form) holds a request's settings to, stated once. Each front end words a value outside them in
/// its own terms (a flag, a config key, a JSON field, a form label).
public enum RequestLimits {
    /// Sampling temperature, inclusive: 0 (least random) to 2 (the widest range providers accept).
    public static let temperature: ClosedRange<Double> = 0...2
    /// ``temperature`` in words, for messages: `from 0 to 2`.
    public static let temperatureInWords = "from \(Int(temperature.lowerBound)) to \(Int(temperature.upperBound))"
    /// The longest per-request timeout, in seconds (one day). A timeout must also be above 0.
    public static let maxTimeoutSeconds: Double = 86_400

    /// ``maxTimeoutSeconds`` in words, for messages: `at most 86400`.
    public static let maxTimeoutInWords = "at most \(Int(maxTimeoutSeconds))"

    /// Whether `seconds` is a usable per-request timeout: above 0 and at most ``maxTimeoutSeconds`` (NaN is not).
    public static func isTimeout(_ seconds: Double) -> Bool { seconds > 0 && seconds <= maxTimeoutSeconds }

    /// The longest prompt one item of a batch may have, in UTF-8 bytes (256 KiB: far beyond any model's
    /// context window in practice, and small enough that a mistaken file is refused before any request).
    public static let maxPromptBytes = 256 << 10
}
