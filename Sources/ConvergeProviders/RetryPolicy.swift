import Foundation

/// When and how long to wait before trying a failed request again.
///
/// - Which errors: only those with ``ProviderError/isRetryable`` (connection errors, timeouts, HTTP 408, 409,
///   429 and 5xx). Other 4xx, malformed or empty answers, and cancellation are final.
/// - How long: the server's Retry-After when it sent one (RFC 9110 §10.2.3, seconds or HTTP-date; see
///   ``RetryAfter``), as long as it is at most ``maxRetryAfter``; a longer one ends the attempts (the cause
///   says so). Without Retry-After: exponential backoff with **full jitter**, from the AWS Architecture Blog,
///   "Exponential Backoff And Jitter" (Marc Brooker, 2015):
///   `sleep = random_between(0, min(cap, base * 2 ** n))` where `n` is the number of retries already made
///   (0 for the first retry), `base` = ``baseDelay`` and `cap` = ``maxDelay``.
/// - How often: at most ``maxAttempts`` attempts in all, the first one included.
public struct RetryPolicy: Sendable, Hashable {
    /// Attempts in all, the first included; `1` means never retry. At least 1.
    public var maxAttempts: Int
    /// The backoff base, in seconds.
    public var baseDelay: Double
    /// The backoff cap, in seconds (the most any jittered backoff sleeps).
    public var maxDelay: Double
    /// The longest Retry-After honoured, in seconds; a server asking for more ends the attempts.
    public var maxRetryAfter: Double

    public init(maxAttempts: Int = 4, baseDelay: Double = 1, maxDelay: Double = 30, maxRetryAfter: Double = 60) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = max(0, baseDelay)
        self.maxDelay = max(0, maxDelay)
        self.maxRetryAfter = max(0, maxRetryAfter)
    }

    /// 4 attempts, base 1 s, cap 30 s, Retry-After honoured up to 60 s.
    public static let `default` = RetryPolicy()
    /// A single attempt.
    public static let never = RetryPolicy(maxAttempts: 1)

    /// The upper bound of the jittered backoff before retry number `retryIndex` (0-based), in seconds:
    /// `min(cap, base * 2 ** retryIndex)`.
    public func backoffCeiling(retryIndex: Int) -> Double {
        let exponent = Double(min(max(0, retryIndex), 62))
        return min(maxDelay, baseDelay * pow(2, exponent))
    }

    /// A full-jitter backoff for retry number `retryIndex` (0-based): uniform in `[0, backoffCeiling]`, seconds.
    public func backoff(retryIndex: Int, using generator: inout some RandomNumberGenerator) -> Double {
        let ceiling = backoffCeiling(retryIndex: retryIndex)
        guard ceiling > 0 else { return 0 }
        return Double.random(in: 0...ceiling, using: &generator)
    }

    /// What to do after an attempt failed.
    public enum Decision: Sendable, Hashable {
        /// Wait `delay` seconds, then try again.
        case retry(delay: Double)
        /// Stop; `reason` (when not `nil`) explains why a retryable error was not retried.
        case giveUp(reason: String?)
    }

    /// Decides whether to retry after attempt number `attempt` (1-based) failed with `error`.
    public func decide(after error: ProviderError, attempt: Int,
                       using generator: inout some RandomNumberGenerator) -> Decision {
        guard error.isRetryable else { return .giveUp(reason: nil) }
        guard attempt < maxAttempts else {
            return .giveUp(reason: maxAttempts == 1 ? nil : "gave up after \(attempt) attempts")
        }
        if let retryAfter = error.retryAfter {
            if retryAfter > maxRetryAfter {
                return .giveUp(reason: "the server asked to retry after \(ProviderError.format(seconds: retryAfter)), "
                    + "more than the cap of \(ProviderError.format(seconds: maxRetryAfter))")
            }
            return .retry(delay: max(0, retryAfter))
        }
        return .retry(delay: backoff(retryIndex: attempt - 1, using: &generator))
    }

    /// ``decide(after:attempt:using:)`` with the system random number generator.
    public func decide(after error: ProviderError, attempt: Int) -> Decision {
        var generator = SystemRandomNumberGenerator()
        return decide(after: error, attempt: attempt, using: &generator)
    }
}

/// Parses the `Retry-After` header field (RFC 9110 §10.2.3): `Retry-After = HTTP-date / delay-seconds`.
///
/// - `delay-seconds` is a non-negative decimal integer of seconds; a fractional value (`1.5`) is also
///   accepted, as some servers send one.
/// - `HTTP-date` (RFC 9110 §5.6.7) is accepted in all three forms a recipient must accept: IMF-fixdate
///   (`Sun, 06 Nov 1994 08:49:37 GMT`), obsolete RFC 850 (`Sunday, 06-Nov-94 08:49:37 GMT`, a two-digit year
///   more than 50 years in the future read as the most recent past year with those digits) and ANSI C
///   asctime (`Sun Nov  6 08:49:37 1994`). A date in the past means "now" (0 s).
public enum RetryAfter {
    /// The delay in seconds from `now`, or `nil` when the value is neither form.
    public static func parse(_ value: String, now: Date = Date()) -> Double? {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { return nil }
        if trimmed.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }) {
            guard let seconds = Double(trimmed), seconds.isFinite, seconds >= 0 else { return nil }
            return seconds
        }
        guard let date = parseHTTPDate(trimmed, now: now) else { return nil }
        return max(0, date.timeIntervalSince(now))
    }

    /// Parses an HTTP-date in any of its three forms (RFC 9110 §5.6.7); `nil` otherwise.
    public static func parseHTTPDate(_ value: String, now: Date = Date()) -> Date? {
        let collapsed = value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
        let formats = [
            "EEE, dd MMM yyyy HH:mm:ss zzz", // IMF-fixdate
            "EEEE, dd-MMM-yy HH:mm:ss zzz", // RFC 850
            "EEE MMM d HH:mm:ss yyyy", // asctime
        ]
        for format in formats {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "GMT")
            formatter.dateFormat = format
            formatter.isLenient = false
            // RFC 9110 §5.6.7: a two-digit year more than 50 years in the future is the most recent past year.
            formatter.twoDigitStartDate = now.addingTimeInterval(-49.9 * 365.2425 * 86_400)
            if let date = formatter.date(from: collapsed) { return date }
        }
        return nil
    }
}
