import Synchronization

/// A signal one task waits for with a timeout: ``signal()`` wakes the waiter at once (or the next wait, if none
/// is waiting); ``wait(timeout:)`` returns on the signal or after `timeout`, whichever comes first. For one
/// waiting task at a time (a worker's claim loop, woken when a job ends).
final class Wakeup: Sendable {
    private struct State {
        var pending = false
        var generation: UInt64 = 0
        var waiter: (id: UInt64, continuation: CheckedContinuation<Void, Never>)?
    }

    private let state = Mutex(State())

    func signal() { fire(nil) }

    func wait(timeout: Duration) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let id = state.withLock { state -> UInt64? in
                if state.pending {
                    state.pending = false
                    return nil
                }
                state.generation += 1
                state.waiter = (state.generation, continuation)
                return state.generation
            }
            guard let id else { return continuation.resume() }
            Task {
                try? await Task.sleep(for: timeout)
                self.fire(id)
            }
        }
    }

    /// Resumes the waiter: any waiter for a signal (`nil`), or only wait `id` for its timeout.
    private func fire(_ id: UInt64?) {
        let continuation = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter, id == nil || waiter.id == id else {
                if id == nil { state.pending = true }
                return nil
            }
            state.waiter = nil
            return waiter.continuation
        }
        continuation?.resume()
    }
}
