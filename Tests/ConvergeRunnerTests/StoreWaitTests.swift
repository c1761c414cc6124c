import ConvergeStore
import Foundation
import Synchronization
import Testing
@testable import ConvergeRunner

/// A write the store cannot take in passing is tried again (`StoreJournal.persisting`): found by the soak's
/// disk-full fault (RELIABILITY.md), where an answer that arrived while the SQLite disk was full stayed
/// `pending` and its survey `running`.
@Suite struct StoreWaitTests {
    /// Runs `persisting` on a write that fails with `error` `failures` times, then succeeds; the attempts made.
    static func attempts(failing failures: Int, with error: StoreError) async -> (Int, Result<Int, any Error>) {
        let count = Mutex(0)
        let result: Result<Int, any Error>
        do {
            result = .success(try await StoreJournal.persisting { () async throws -> Int in
                let n = count.withLock { $0 += 1; return $0 }
                if n <= failures { throw error }
                return n
            })
        } catch {
            result = .failure(error)
        }
        return (count.withLock { $0 }, result)
    }

    @Test func aFullDiskIsWaitedForAsAnUnreachableDatabaseIs() async throws {
        let (fullAttempts, full) = await Self.attempts(failing: 2, with: .full(location: "sqlite:/tmp/x.sqlite"))
        #expect(fullAttempts == 3)
        #expect(try full.get() == 3)
        let (downAttempts, down) = await Self.attempts(failing: 1, with: .unavailable(location: "postgres://x", reason: "57P03"))
        #expect(downAttempts == 2)
        #expect(try down.get() == 2)
    }

    @Test func otherStoreErrorsAreNotTriedAgain() async {
        let (attempts, result) = await Self.attempts(failing: 1, with: .notFound("survey x"))
        #expect(attempts == 1)
        #expect(throws: StoreError.self) { try result.get() }
    }
}
