import Foundation
import Synchronization
import Testing
@testable import converge

/// The progress lines of a long encoding (`converge analyze` on long answers).
@Suite struct EncodingProgressTests {
    final class Lines: Sendable {
        let value = Mutex<[String]>([])
        func append(_ line: String) { value.withLock { $0.append(line) } }
        var all: [String] { value.withLock { $0 } }
    }

    @Test func aQuickEncodingPrintsNothing() {
        let lines = Lines()
        let progress = EncodingProgress(write: lines.append)
        for done in stride(from: 64, through: 2_048, by: 64) { progress.report(encoded: done, total: 2_048) }
        #expect(lines.all.isEmpty, "under two seconds")
        let few = EncodingProgress(quiet: .zero, interval: .zero, write: lines.append)
        for done in stride(from: 64, through: 192, by: 64) { few.report(encoded: done, total: 192) }
        #expect(lines.all.isEmpty, "fewer than 200 sentences")
    }

    @Test func aLongEncodingPrintsProgressThenTheTimeTaken() {
        let lines = Lines()
        let progress = EncodingProgress(minimumTotal: 0, quiet: .zero, interval: .zero, write: lines.append)
        progress.report(encoded: 64, total: 200)
        progress.report(encoded: 128, total: 200)
        progress.report(encoded: 200, total: 200)
        #expect(lines.all.count == 3)
        #expect(lines.all[0] == "converge: encoding sentences: 64 of 200\n")
        #expect(lines.all[1] == "converge: encoding sentences: 128 of 200\n")
        #expect(lines.all[2].hasPrefix("converge: encoded 200 sentences in ") && lines.all[2].hasSuffix(" s; matching them\n"))
        // The next call starts afresh.
        progress.report(encoded: 10, total: 10)
        #expect(lines.all.count == 3, "a call that never printed progress prints no last line")
    }
}
