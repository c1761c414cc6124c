import ConvergeProviders
import ConvergeTestSupport
import Foundation
import Testing

@Suite struct RetryPolicyTests {
    let policy = RetryPolicy(maxAttempts: 5, baseDelay: 0.5, maxDelay: 4, maxRetryAfter: 10)

    @Test func fullJitterStaysWithinTheExponentialCeiling() {
        #expect(policy.backoffCeiling(retryIndex: 0) == 0.5)
        #expect(policy.backoffCeiling(retryIndex: 1) == 1)
        #expect(policy.backoffCeiling(retryIndex: 2) == 2)
        #expect(policy.backoffCeiling(retryIndex: 3) == 4)
        #expect(policy.backoffCeiling(retryIndex: 10) == 4) // capped
        var generator = SeededGenerator(seed: 42)
        for retry in 0..<6 {
            let ceiling = policy.backoffCeiling(retryIndex: retry)
            var draws: [Double] = []
            for _ in 0..<400 { draws.append(policy.backoff(retryIndex: retry, using: &generator)) }
            #expect(draws.allSatisfy { $0 >= 0 && $0 <= ceiling })
            // Full jitter spreads over the whole range, not just near the ceiling ("equal jitter") or at it.
            #expect(draws.min()! < ceiling * 0.1)
            #expect(draws.max()! > ceiling * 0.9)
            let mean = draws.reduce(0, +) / Double(draws.count)
            #expect(abs(mean - ceiling / 2) < ceiling * 0.1)
        }
    }

    @Test func retriesOnlyTheRetryableErrors() {
        var generator = SeededGenerator(seed: 1)
        for status in [408, 409, 429, 500, 502, 503, 529] {
            let decision = policy.decide(after: .http(status: status, message: "", retryAfter: nil, requestID: nil),
                                         attempt: 1, using: &generator)
            guard case .retry(let delay) = decision else {
                Issue.record("HTTP \(status) should be retried, got \(decision)")
                continue
            }
            #expect(delay >= 0 && delay <= 0.5)
        }
        for status in [400, 401, 403, 404, 422] {
            #expect(policy.decide(after: .http(status: status, message: "", retryAfter: nil, requestID: nil),
                                  attempt: 1, using: &generator) == .giveUp(reason: nil))
        }
        #expect(policy.decide(after: .connection("reset"), attempt: 1, using: &generator) != .giveUp(reason: nil))
        #expect(policy.decide(after: .timeout(seconds: 1), attempt: 1, using: &generator) != .giveUp(reason: nil))
        #expect(policy.decide(after: .malformedResponse("x"), attempt: 1, using: &generator) == .giveUp(reason: nil))
        #expect(policy.decide(after: .emptyResponse("x"), attempt: 1, using: &generator) == .giveUp(reason: nil))
        #expect(policy.decide(after: .cancelled, attempt: 1, using: &generator) == .giveUp(reason: nil))
    }

    @Test func stopsAfterMaxAttempts() {
        var generator = SeededGenerator(seed: 2)
        let error = ProviderError.http(status: 503, message: "", retryAfter: nil, requestID: nil)
        if case .retry = policy.decide(after: error, attempt: 4, using: &generator) {} else {
            Issue.record("attempt 4 of 5 should be retried")
        }
        #expect(policy.decide(after: error, attempt: 5, using: &generator) == .giveUp(reason: "gave up after 5 attempts"))
    }

    @Test func honoursRetryAfterUpToTheCap() {
        var generator = SeededGenerator(seed: 3)
        let asked = ProviderError.http(status: 429, message: "", retryAfter: 7, requestID: nil)
        #expect(policy.decide(after: asked, attempt: 1, using: &generator) == .retry(delay: 7))
        let tooLong = ProviderError.http(status: 429, message: "", retryAfter: 3600, requestID: nil)
        guard case .giveUp(let reason?) = policy.decide(after: tooLong, attempt: 1, using: &generator) else {
            Issue.record("a Retry-After above the cap should end the attempts")
            return
        }
        #expect(reason.contains("3600 s"))
        #expect(reason.contains("10 s"))
    }

    @Test func parsesRetryAfterSeconds() {
        #expect(RetryAfter.parse("120") == 120)
        #expect(RetryAfter.parse(" 0 ") == 0)
        #expect(RetryAfter.parse("1.5") == 1.5)
        #expect(RetryAfter.parse("-1") == nil)
        #expect(RetryAfter.parse("soon") == nil)
        #expect(RetryAfter.parse("") == nil)
    }

    @Test func parsesRetryAfterHTTPDatesInAllThreeForms() throws {
        // RFC 9110 §5.6.7's own example instant: Sun, 06 Nov 1994 08:49:37 GMT = 784111777 s after the epoch.
        let instant = Date(timeIntervalSince1970: 784_111_777)
        let now = instant.addingTimeInterval(-90)
        #expect(RetryAfter.parse("Sun, 06 Nov 1994 08:49:37 GMT", now: now) == 90)
        #expect(RetryAfter.parse("Sunday, 06-Nov-94 08:49:37 GMT", now: now) == 90)
        #expect(RetryAfter.parse("Sun Nov  6 08:49:37 1994", now: now) == 90)
        // A date in the past means "retry now".
        #expect(RetryAfter.parse("Sun, 06 Nov 1994 08:49:37 GMT", now: instant.addingTimeInterval(30)) == 0)
        #expect(RetryAfter.parse("Sun, 06 Nov 1994 25:49:37 GMT", now: now) == nil)
        #expect(RetryAfter.parseHTTPDate("Sun, 06 Nov 1994 08:49:37 GMT") == instant)
    }

    @Test func readsRFC850TwoDigitYearsRelativeToNow() throws {
        // In 2026, "-30" is 2030 (within 50 years ahead), "-94" is 1994 (2094 would be more than 50 years ahead).
        let now = try #require(RetryAfter.parseHTTPDate("Sun, 29 Nov 2026 12:00:00 GMT"))
        let near = try #require(RetryAfter.parseHTTPDate("Friday, 01-Nov-30 00:00:00 GMT", now: now))
        let past = try #require(RetryAfter.parseHTTPDate("Sunday, 06-Nov-94 08:49:37 GMT", now: now))
        #expect(Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "GMT")!, from: near).year == 2030)
        #expect(Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "GMT")!, from: past).year == 1994)
    }
}
