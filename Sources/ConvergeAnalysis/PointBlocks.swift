import ConvergeCore

/// The block whose point each statement explains: its own Markdown block, except that the block under a
/// heading or label that names a point (`### Use a sharp knife` over one paragraph, `7. Limit processed foods:`
/// over one nested item: a `Statement.isLeadIn` alone in its block) belongs to the heading's block. One place
/// for the rule that `FillerDetector`, `BlockJoiner` and the labels share.
enum PointBlocks {
    /// For every statement (same indices), `[answerIndex, block]` of the point it belongs to.
    static func of(_ statements: [Statement]) -> [[Int]] {
        var size: [[Int]: Int] = [:]
        for s in statements { size[[s.answerIndex, s.block], default: 0] += 1 }
        var namedBy: [[Int]: Int] = [:]  // [answer, named block] -> block of the heading or label that names it
        for s in statements where s.isLeadIn && (s.blockKind == .heading || size[[s.answerIndex, s.block]] == 1) {
            namedBy[[s.answerIndex, s.block + 1]] = s.block
        }
        return statements.map { s in
            [s.answerIndex, namedBy[[s.answerIndex, s.block]] ?? s.block]
        }
    }
}
