import Foundation
import Synchronization

/// The server process's resident memory and open descriptors over time, read from /proc (Linux) once a
/// second; a restarted server starts a new segment. Leak checks use the slope of a least-squares line fitted
/// to the samples of a segment after its warm-up.
final class SoakSampler: Sendable {
    struct Sample: Sendable {
        var seconds: Double
        var rssMiB: Double
        var descriptors: Int
    }

    struct Segment: Sendable {
        var pid: Int32
        var samples: [Sample] = []
    }

    private let segments = Mutex<[Segment]>([])

    /// Samples `pid` now; a new pid starts a new segment. Nothing when /proc has no such process.
    func sample(pid: Int32, at seconds: Double) {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kib = Double(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        else { return }
        let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? 0
        let sample = Sample(seconds: seconds, rssMiB: kib / 1024, descriptors: descriptors)
        segments.withLock {
            if $0.last?.pid != pid { $0.append(Segment(pid: pid)) }
            $0[$0.count - 1].samples.append(sample)
        }
    }

    var all: [Segment] { segments.withLock { $0 } }

    /// Least-squares slope of `y` over `x` (units of y per unit of x); 0 with fewer than 3 points.
    static func slope(_ points: [(x: Double, y: Double)]) -> Double {
        guard points.count >= 3 else { return 0 }
        let n = Double(points.count)
        let mx = points.map(\.x).reduce(0, +) / n, my = points.map(\.y).reduce(0, +) / n
        let sxx = points.map { ($0.x - mx) * ($0.x - mx) }.reduce(0, +)
        guard sxx > 0 else { return 0 }
        return points.map { ($0.x - mx) * ($0.y - my) }.reduce(0, +) / sxx
    }

    /// A segment's samples after its first `warmUp` fraction of time.
    static func afterWarmUp(_ segment: Segment, warmUp: Double) -> [Sample] {
        guard let first = segment.samples.first?.seconds, let last = segment.samples.last?.seconds else { return [] }
        let cut = first + (last - first) * warmUp
        return segment.samples.filter { $0.seconds >= cut }
    }
}
