import Foundation

/// Slows down guessing of API tokens through `/login`: after `freeFailures` failed sign-ins from one client
/// address, each further attempt must wait 2^(failures - freeFailures) seconds after the last failure, at most
/// `maxDelay`. A success forgets the address; entries idle for `forgetAfter` are dropped. Kept in memory, at
/// most `capacity` addresses (the oldest dropped first).
actor LoginThrottle {
    let freeFailures: Int
    let maxDelay: Duration
    let forgetAfter: Duration
    let capacity: Int
    private var entries: [String: (failures: Int, last: ContinuousClock.Instant)] = [:]

    init(freeFailures: Int = 5, maxDelay: Duration = .seconds(60), forgetAfter: Duration = .seconds(900),
         capacity: Int = 10_000) {
        self.freeFailures = freeFailures
        self.maxDelay = maxDelay
        self.forgetAfter = forgetAfter
        self.capacity = capacity
    }

    /// How long `client` must still wait before its next attempt, or `nil` when it may try now.
    func delay(for client: String) -> Duration? {
        guard let entry = entries[client], entry.failures >= freeFailures else { return nil }
        let exponent = min(entry.failures - freeFailures, 16)
        let wait = min(Duration.seconds(1 << exponent), maxDelay)
        let remaining = entry.last + wait - ContinuousClock.now
        return remaining > .zero ? remaining : nil
    }

    func failed(_ client: String) {
        let now = ContinuousClock.now
        if entries.count >= capacity {
            entries = entries.filter { now - $0.value.last < forgetAfter }
            if entries.count >= capacity, let oldest = entries.min(by: { $0.value.last < $1.value.last })?.key {
                entries[oldest] = nil
            }
        }
        var entry = entries[client] ?? (0, now)
        if now - entry.last >= forgetAfter { entry.failures = 0 }
        entry.failures += 1
        entry.last = now
        entries[client] = entry
    }

    func succeeded(_ client: String) { entries[client] = nil }
}
