import Foundation

/// Small measuring helpers for benchmarks: wall time, percentiles, and peak resident set size.
enum Measure {
    /// Runs `body` and returns its result and the wall time in seconds (monotonic clock).
    static func time<T>(_ body: () throws -> T) rethrows -> (T, Double) {
        let start = ContinuousClock.now
        let result = try body()
        let elapsed = ContinuousClock.now - start
        return (result, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
    }

    /// The p-th percentile (0...100) of `values` by the nearest-rank method.
    static func percentile(_ values: [Double], _ p: Double) -> Double {
        guard !values.isEmpty else { return .nan }
        let sorted = values.sorted()
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }

    /// Peak resident set size of this process so far, in MiB (getrusage(2); ru_maxrss is in KiB on Linux).
    static func peakRSSMiB() -> Double {
        var usage = rusage()
        #if os(Linux)
        getrusage(RUSAGE_SELF.rawValue, &usage)
        #else
        getrusage(RUSAGE_SELF, &usage)
        #endif
        #if os(Linux)
        return Double(usage.ru_maxrss) / 1024
        #else
        return Double(usage.ru_maxrss) / 1024 / 1024
        #endif
    }

    /// CPU time (user + system) of this process so far, in seconds (getrusage(2)): beside wall time, the work
    /// done, which other processes on a shared machine do not inflate.
    static func cpuSeconds() -> Double {
        var usage = rusage()
        #if os(Linux)
        getrusage(RUSAGE_SELF.rawValue, &usage)
        #else
        getrusage(RUSAGE_SELF, &usage)
        #endif
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    /// Runs `body` and returns its result, its wall time and the process's CPU time during it, in seconds.
    static func times<T>(_ body: () throws -> T) rethrows -> (T, wall: Double, cpu: Double) {
        let cpu = cpuSeconds()
        let (result, wall) = try time(body)
        return (result, wall, cpuSeconds() - cpu)
    }

    static func ms(_ seconds: Double) -> String { String(format: "%.1f ms", seconds * 1000) }
}
