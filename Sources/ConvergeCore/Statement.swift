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

    public init(answerIndex: Int, start: Int, end: Int, text: String, kind: Kind, section: String? = nil,
                sentence: Range<Int>? = nil) {
        self.answerIndex = answerIndex
        self.start = start
        self.end = end
        self.text = text
        self.kind = kind
        self.section = section
        self.sentence = sentence
    }
}
