import Dispatch
import Foundation

/// Cancels a task when the process receives SIGINT (Ctrl-C), SIGTERM (`kill`, `timeout`) or SIGHUP (the
/// terminal closed): the runner then returns at once with the unfinished requests recorded as `cancelled`,
/// and the caller can leave the survey resumable.
///
/// ```swift
/// let (events, task) = runner.start(survey)
/// let interrupt = InterruptHandler.cancelling(task)
/// defer { interrupt.stop() }
/// for await event in events { ... }
/// let result = await task.value   // result.cancelled == true after Ctrl-C
/// ```
///
/// While installed, the signals' default actions (ending the process) are replaced; ``stop()`` restores them.
/// A second signal after the first ends the process as usual.
// `@unchecked`: the dispatch sources are thread-safe and never replaced; `received` is guarded by `lock`.
package final class InterruptHandler: @unchecked Sendable {
    /// The signals handled.
    package static let signals: [Int32] = [SIGINT, SIGTERM, SIGHUP]
    private let sources: [any DispatchSourceSignal]
    private let lock = NSLock()
    private var received: Int32?

    private init(sources: [any DispatchSourceSignal]) {
        self.sources = sources
    }

    /// The first signal received, if any.
    package var signal: Int32? {
        lock.lock()
        defer { lock.unlock() }
        return received
    }

    /// The conventional exit status for the signal received (128 + its number: 130 for SIGINT), or 130.
    package var exitStatus: Int32 { 128 + (signal ?? SIGINT) }

    /// Installs the handler: the first of the signals cancels `task` (and restores the default actions, so a
    /// second one ends the process).
    package static func cancelling<Success, Failure>(_ task: Task<Success, Failure>) -> InterruptHandler {
        var sources: [any DispatchSourceSignal] = []
        for number in signals {
            Foundation.signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            sources.append(source)
        }
        let installed = InterruptHandler(sources: sources)
        for (number, source) in zip(signals, sources) {
            source.setEventHandler { [installed] in
                installed.lock.lock()
                if installed.received == nil { installed.received = number }
                installed.lock.unlock()
                task.cancel()
                for other in signals { Foundation.signal(other, SIG_DFL) }
            }
            source.resume()
        }
        return installed
    }

    /// Removes the handler and restores the signals' default actions.
    package func stop() {
        for source in sources { source.cancel() }
        for number in Self.signals { Foundation.signal(number, SIG_DFL) }
    }
}
