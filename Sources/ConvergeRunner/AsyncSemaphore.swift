/// A counting semaphore for async code: at most `permits` holders at once, waiters served first come,
/// first served, and a waiting task that is cancelled stops waiting (throws `CancellationError`) without
/// taking a permit.
///
/// Every successful ``acquire()`` must be paired with exactly one ``release()``.
package actor AsyncSemaphore {
    private var available: Int
    private var waiters: [(id: UInt64, continuation: CheckedContinuation<Void, any Error>)] = []
    private var nextID: UInt64 = 0

    /// The number of permits (at least 1).
    package nonisolated let permits: Int

    package init(permits: Int) {
        self.permits = max(1, permits)
        self.available = max(1, permits)
    }

    /// Waits for a permit.
    /// - Throws: `CancellationError` when the task is cancelled before it gets one.
    package func acquire() async throws {
        try Task.checkCancellation()
        if available > 0 {
            available -= 1
            return
        }
        let id = nextID
        nextID += 1
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                waiters.append((id, continuation))
            }
        } onCancel: {
            Task { await self.cancelWaiter(id) }
        }
    }

    /// Returns a permit, handing it to the longest waiter if there is one.
    package func release() {
        if waiters.isEmpty {
            available = min(permits, available + 1)
        } else {
            waiters.removeFirst().continuation.resume()
        }
    }

    /// Permits free right now (for tests and progress displays).
    package var availablePermits: Int { available }

    /// Tasks waiting for a permit right now.
    package var waitingCount: Int { waiters.count }

    private func cancelWaiter(_ id: UInt64) {
        guard let index = waiters.firstIndex(where: { $0.id == id }) else { return }
        waiters.remove(at: index).continuation.resume(throwing: CancellationError())
    }
}
