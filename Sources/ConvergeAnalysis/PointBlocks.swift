import ConvergeCore

/// The block whose point each statement explains: its own Markdown block, except that the paragraph under a
/// heading that names a point (`### Use a sharp knife` over one paragraph, `Statement.isLeadIn`) belongs to
/// the heading's block. One place for the rule that `FillerDetector`, `BlockJoiner` and the labels share.
enum PointBlocks {
    /// For every statement (same indices), `[answerIndex, block]` of the point it belongs to.
    static func of(_ statements: [Statement]) -> [[Int]] {
        var namedBy: [[Int]: Int] = [:]  // [answer, paragraph block] -> block of the heading that names it
        for s in statements where s.blockKind == .heading && s.isLeadIn {
            namedBy[[s.answerIndex, s.block + 1]] = s.block
        }
        return statements.map { s in
            [s.answerIndex, namedBy[[s.answerIndex, s.block]] ?? s.block]
        }
    }
}
