import Foundation

/// A batch's row: many prompts asked of one panel, each its own stored survey.
public struct StoredBatch: Sendable, Hashable {
    /// One prompt of the batch and the survey that asks it.
    public struct Item: Sendable, Hashable {
        /// 0-based position in the batch.
        public var index: Int
        /// The item's id from the batch file (unique in the batch).
        public var itemID: String
        public var surveyID: String

        public init(index: Int, itemID: String, surveyID: String) {
            self.index = index
            self.itemID = itemID
            self.surveyID = surveyID
        }
    }

    /// Short random id, as a survey's (``StoredSurvey/newID()``).
    public var id: String
    public var createdAt: Date
    /// Where the prompts came from, for people: the batch file, or `folders` for an import.
    public var source: String
    /// Opaque JSON owned by the front end that made the batch (its settings, to resume it).
    public var spec: Data
    /// In batch order.
    public var items: [Item]

    public init(id: String, createdAt: Date = Date(), source: String, spec: Data, items: [Item]) {
        self.id = id
        self.createdAt = createdAt
        self.source = source
        self.spec = spec
        self.items = items
    }
}
