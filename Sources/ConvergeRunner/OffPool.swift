import Foundation

/// Runs CPU-bound synchronous work (an analysis: segmentation, encoding, matching; seconds for long answers) on
/// a thread of its own instead of Swift concurrency's cooperative pool. That pool has one thread per core: on
/// two cores two analyses would hold all of it, and every other task of the process (an HTTP server's health
/// checks and other requests, database I/O) would wait for them.
public func offCooperativePool<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        let thread = Thread { continuation.resume(returning: work()) }
        thread.name = "converge-analysis"
        // The encoder's sub-batches and the matching need more than the default 512 KiB of a secondary thread.
        thread.stackSize = 8 << 20
        thread.start()
    }
}
