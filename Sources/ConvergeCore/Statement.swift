/// An atomic unit of an answer: a heading, a list item, a sentence, or a clause of a sentence that lists
/// several points.
///
/// `start` and `end` are offsets in Unicode scalars into the answer's text, `end` exclusive;
/// `text` is exactly the scalars between them.
public struct Statement: Sendable, Hashable {
    public enum Kind: String, Sendable, Codable {
        case heading, item, sentence, clause
    }

    /// Index of the answer in the analysed panel (position in `AnalysisInput.answers`).
    public var answerIndex: Int
    public var start: Int
    public var end: Int
    public var text: String
    public var kind: Kind
    /// The nearest heading or bold lead-in above the statement, if any (for context in reports).
    public var section: String?
    /// For a clause: the offsets of the sentence it is part of.
    public var sentence: Range<Int>?
    /// Position of the Markdown block (heading, list item, paragraph or table row) the statement is part of,
    /// counted from 0 in its answer: statements of one block share it.
    public var block: Int
    /// The kind of that block.
    public var blockKind: BlockKind
    /// A bold lead-in that names the point its block goes on to explain (`**Use a sharp knife:** ...`).
    public var isLeadIn: Bool
    /// A heading, or a short label such as `**Proper Grip**:` or `Additional tips:`, that only announces the
    /// section below it (its own list items or paragraphs): a category, not a point.
    public var announcesSection: Bool
    /// The text of the nearest heading or label above that announces a section holding this statement, if any
    /// (a hint for the key point's category).
    public var sectionLabel: String?

    public enum BlockKind: String, Sendable, Codable {
        case heading, listItem, paragraph, tableRow
    }

    public init(answerIndex: Int, start: Int, end: Int, text: String, kind: Kind, section: String? = nil,
                sentence: Range<Int>? = nil, block: Int = 0, blockKind: BlockKind = .paragraph, isLeadIn: Bool = false,
                announcesSection: Bool = false) {
        self.answerIndex = answerIndex
        self.start = start
        self.end = end
        self.text = text
        self.kind = kind
        self.section = section
        self.sentence = sentence
        self.block = block
        self.blockKind = blockKind
        self.isLeadIn = isLeadIn
        self.announcesSection = announcesSection
        self.sectionLabel = nil
    }
}
