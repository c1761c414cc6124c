@testable import ConvergeEmbeddings
import Testing

/// How `BertEncoder.embed` cuts a batch over its threads: contiguous, non-empty runs of near-equal token counts.
struct SubBatchTests {
    @Test(arguments: [
        ([5, 5, 5, 5], 2, [0, 2, 4]),
        ([1, 1, 1, 1, 1, 1, 10], 2, [0, 6, 7]),
        ([3], 1, [0, 1]),
        ([2, 2], 2, [0, 1, 2]),
        ([100, 1, 1], 3, [0, 1, 2, 3]),
        ([1, 2, 3, 4, 5, 6, 7, 8], 2, [0, 5, 8]),  // 15 | 21 (or 21 | 15): the nearest cut
    ])
    func splitsByTokenCount(counts: [Int], parts: Int, expected: [Int]) {
        #expect(BertEncoder.split(counts, parts: parts) == expected)
    }

    @Test func everyRunIsNonEmptyAndTheRunsCoverTheBatch() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let counts = (0..<Int.random(in: 1...70, using: &generator)).map { _ in Int.random(in: 2...256, using: &generator) }
                .sorted()
            let parts = Int.random(in: 1...min(4, counts.count), using: &generator)
            let bounds = BertEncoder.split(counts, parts: parts)
            #expect(bounds.count == parts + 1 && bounds.first == 0 && bounds.last == counts.count)
            #expect(zip(bounds, bounds.dropFirst()).allSatisfy { $0 < $1 }, "\(counts) \(parts) \(bounds)")
        }
    }
}
