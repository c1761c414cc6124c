import Dispatch
import Foundation

/// Cancels a task when the process receives SIGINT (Ctrl-C) — the way a front end stops a survey cleanly:
/// the runner then returns at once with the unfinished requests recorded as `cancelled`.
///
/// ```swift
/// let (events, task) = runner.start(survey)
/// let interrupt = InterruptHandler.cancelling(task)
/// defer { interrupt.stop() }
/// for await event in events { ... }
/// let result = await task.value   // result.cancelled == true after Ctrl-C
/// ```
///
/// While installed, SIGINT's default action (ending the process) is replaced; ``stop()`` restores it.
/// A second Ctrl-C after the first ends the process as usual.
// `@unchecked`: the only stored property is a dispatch source, and dispatch objects are thread-safe
// (their methods may be called from any thread); it is never mutated after init.
public final class InterruptHandler: @unchecked Sendable {
    private let source: any DispatchSourceSignal

    private init(source: any DispatchSourceSignal) {
        self.source = source
    }

    /// Installs the handler: the first SIGINT cancels `task` (and restores the default action, so a
    /// second one ends the process).
    public static func cancelling<Success, Failure>(_ task: Task<Success, Failure>) -> InterruptHandler {
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler {
            task.cancel()
            signal(SIGINT, SIG_DFL)
        }
        source.resume()
        return InterruptHandler(source: source)
    }

    /// Removes the handler and restores SIGINT's default action.
    public func stop() {
        source.cancel()
        signal(SIGINT, SIG_DFL)
    }
}
