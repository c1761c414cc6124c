import Foundation
import Synchronization

/// Plain progress lines on standard error while a long analysis encodes its sentences: nothing for a call of
/// fewer than `minimumTotal` texts (senior-backend has 87) or for its first `quiet` seconds (a five-answer prompt of
/// 100-300 sentences takes well under that in a release build), then
/// `converge: encoding sentences: N of M` every `interval` seconds, and a last line with the time taken (matching
/// follows, without lines of its own).
final class EncodingProgress: Sendable {
    private struct State {
        var started: ContinuousClock.Instant?
        var lastLine: ContinuousClock.Instant?
    }
    private let state = Mutex(State())
    private let minimumTotal: Int
    private let quiet: Duration
    private let interval: Duration
    private let write: @Sendable (String) -> Void

    init(minimumTotal: Int = 200, quiet: Duration = .seconds(2), interval: Duration = .seconds(2),
         write: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }) {
        self.minimumTotal = minimumTotal
        self.quiet = quiet
        self.interval = interval
        self.write = write
    }

    /// For `SentenceEmbeddingModel.progress`.
    func report(encoded: Int, total: Int) {
        guard total >= minimumTotal else { return }
        let now = ContinuousClock.now
        let line: String? = state.withLock { s in
            let started = s.started ?? now
            s.started = encoded >= total ? nil : started
            let shown = s.lastLine != nil
            if encoded >= total {
                s.lastLine = nil
                guard shown else { return nil }
                let elapsed = (now - started).components
                let seconds = Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18
                return "converge: encoded \(total) sentences in \(String(format: "%.1f", seconds)) s; matching them\n"
            }
            guard now - started >= quiet, s.lastLine.map({ now - $0 >= interval }) ?? true else { return nil }
            s.lastLine = now
            return "converge: encoding sentences: \(encoded) of \(total)\n"
        }
        if let line { write(line) }
    }
}
