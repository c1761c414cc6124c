/// The consolidated report of one analysed turn: report JSON schema version 1 (ARCHITECTURE.md,
/// `schema/report-v1.json`). Fields may be added, never renamed.
///
/// Offsets (`start`, `end`) are Unicode scalar (code point) indices into the panelist's answer text, `end`
/// exclusive. Fields that the schema gives as `str|null` are always encoded, as `null` when absent.
public struct Report: Sendable, Equatable, Codable {
    public static let schemaVersion = 1

    public struct PanelistEntry: Sendable, Equatable, Codable {
        public enum Status: String, Sendable, Codable { case answered, failed }
        public var id: String
        public var label: String
        public var model: String?
        public var status: Status
        public var error: String?

        public init(id: String, label: String, model: String?, status: Status, error: String? = nil) {
            self.id = id
            self.label = label
            self.model = model
            self.status = status
            self.error = error
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(id, forKey: .id)
            try c.encode(label, forKey: .label)
            try c.encode(model, forKey: .model)
            try c.encode(status, forKey: .status)
            try c.encode(error, forKey: .error)
        }
    }

    /// Exact words of one answer: `quote` equals the answer's scalars in `start..<end`.
    ///
    /// With repeat sampling, `sample` (0-based) says which of the panelist's answers the offsets are into
    /// (addition to schema v1; absent with one sample per panelist).
    public struct Evidence: Sendable, Equatable, Hashable, Codable {
        public var panelist: String
        public var quote: String
        public var start: Int
        public var end: Int
        public var sample: Int?

        public init(panelist: String, quote: String, start: Int, end: Int, sample: Int? = nil) {
            self.panelist = panelist
            self.quote = quote
            self.start = start
            self.end = end
            self.sample = sample
        }
    }

    public struct KeyPoint: Sendable, Equatable, Codable {
        public var id: String
        public var label: String
        public var category: String?
        /// Ids of the panelists that make the point, each once, in panel order.
        public var support: [String]
        public var consensus: ConsensusLevel
        public var evidence: [Evidence]
        /// The rubric item this key point makes, if any (addition to schema v1).
        public var rubricItem: String?
        /// With repeat sampling: per supporting panelist, the share of its samples that make the point, in
        /// (0, 1] (addition to schema v1; absent with one sample per panelist).
        public var stability: [String: Double]?

        public init(id: String, label: String, category: String?, support: [String], consensus: ConsensusLevel,
                    evidence: [Evidence], rubricItem: String? = nil, stability: [String: Double]? = nil) {
            self.id = id
            self.label = label
            self.category = category
            self.support = support
            self.consensus = consensus
            self.evidence = evidence
            self.rubricItem = rubricItem
            self.stability = stability
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(id, forKey: .id)
            try c.encode(label, forKey: .label)
            try c.encode(category, forKey: .category)
            try c.encode(support, forKey: .support)
            try c.encode(consensus, forKey: .consensus)
            try c.encode(evidence, forKey: .evidence)
            try c.encode(rubricItem, forKey: .rubricItem)
            try c.encodeIfPresent(stability, forKey: .stability)
        }
    }

    public struct Term: Sendable, Equatable, Codable {
        public enum Kind: String, Sendable, Codable { case name, title, quantity }
        public var text: String
        public var kind: Kind
        public var support: [String]
        /// The first mention in each supporting answer (addition to schema v1).
        public var evidence: [Evidence]

        public init(text: String, kind: Kind, support: [String], evidence: [Evidence]) {
            self.text = text
            self.kind = kind
            self.support = support
            self.evidence = evidence
        }
    }

    public struct ConflictValue: Sendable, Equatable, Codable {
        public var panelist: String
        public var value: String
        public var quote: String
        public var start: Int
        public var end: Int

        public init(panelist: String, value: String, quote: String, start: Int, end: Int) {
            self.panelist = panelist
            self.value = value
            self.quote = quote
            self.start = start
            self.end = end
        }
    }

    public struct Conflict: Sendable, Equatable, Codable {
        public var topic: String
        public var values: [ConflictValue]
        /// The key point the values were stated for (addition to schema v1).
        public var keyPoint: String?

        public init(topic: String, values: [ConflictValue], keyPoint: String?) {
            self.topic = topic
            self.values = values
            self.keyPoint = keyPoint
        }
    }

    public struct RubricItemCoverage: Sendable, Equatable, Codable {
        public var id: String
        public var category: String
        public var text: String
        public var support: [String]
        public var evidence: [Evidence]

        public init(id: String, category: String, text: String, support: [String], evidence: [Evidence]) {
            self.id = id
            self.category = category
            self.text = text
            self.support = support
            self.evidence = evidence
        }
    }

    public struct RubricCoverage: Sendable, Equatable, Codable {
        public var title: String
        public var items: [RubricItemCoverage]

        public init(title: String, items: [RubricItemCoverage]) {
            self.title = title
            self.items = items
        }
    }

    public struct Omission: Sendable, Equatable, Codable {
        public var item: String
        public var category: String
        public var text: String

        public init(item: String, category: String, text: String) {
            self.item = item
            self.category = category
            self.text = text
        }
    }

    public struct Convergence: Sendable, Equatable, Codable {
        /// Mean over panelist pairs of the Jaccard similarity of the key point sets they support, in [0, 1];
        /// 0 when fewer than two panelists answered.
        public var index: Double
        /// Jaccard similarity for every ordered pair of answering panelists (1 on the diagonal).
        public var pairwise: [String: [String: Double]]

        public init(index: Double, pairwise: [String: [String: Double]]) {
            self.index = index
            self.pairwise = pairwise
        }
    }

    /// How the report was made (addition to schema v1).
    public struct Analysis: Sendable, Equatable, Codable {
        public var engine: String
        public var similarity: String
        public var statements: Int
        public var blind: Bool

        public init(engine: String, similarity: String, statements: Int, blind: Bool) {
            self.engine = engine
            self.similarity = similarity
            self.statements = statements
            self.blind = blind
        }
    }

    public var schemaVersion: Int
    public var prompt: String?
    public var panelists: [PanelistEntry]
    public var keyPoints: [KeyPoint]
    public var terms: [Term]
    public var conflicts: [Conflict]
    public var rubric: RubricCoverage?
    public var omissions: [Omission]
    public var convergence: Convergence
    public var analysis: Analysis?
    /// What the analysis set aside as filler (text that makes no point: introductions, "here are some tips",
    /// section headings, closing pleasantries), each with its exact place and the reason (addition to schema
    /// v1; absent from reports made before it), so that nothing silently disappears.
    public var filler: [Filler]?

    /// One piece of filler: where it is, and why it was set aside (`FillerDetector.Reason` in ConvergeAnalysis:
    /// `section heading`, `announcement`, `pleasantry`, `introduction`, `closing`, `question`, `transition`).
    public struct Filler: Sendable, Equatable, Codable {
        public var evidence: Evidence
        public var reason: String

        public init(evidence: Evidence, reason: String) {
            self.evidence = evidence
            self.reason = reason
        }
    }
    /// For surveys asked live: every turn's prompt and responses (addition to schema v1; absent for
    /// `converge analyze`). The key points analyse the last turn.
    public var turns: [Turn]?
    /// What a judge model said, verified against the answers (addition to schema v1; absent unless a judge was
    /// asked): `Report+Judge.swift`.
    public var judge: Judge?

    /// One turn of a live survey.
    public struct Turn: Sendable, Equatable, Codable {
        public var index: Int
        public var prompt: String
        public var responses: [Response]

        public init(index: Int, prompt: String, responses: [Response]) {
            self.index = index
            self.prompt = prompt
            self.responses = responses
        }
    }

    /// One panelist's response (one sample) to one turn: the answer with its latency (ms), token usage, finish
    /// reason and the provider's request id, or the error that stopped it.
    public struct Response: Sendable, Equatable, Codable {
        public var panelist: String
        public var sample: Int
        public var status: PanelistEntry.Status
        public var text: String?
        public var latencyMs: Double?
        public var inputTokens: Int?
        public var outputTokens: Int?
        public var finishReason: String?
        public var requestId: String?
        public var error: String?

        public init(panelist: String, sample: Int, status: PanelistEntry.Status, text: String? = nil,
                    latencyMs: Double? = nil, inputTokens: Int? = nil, outputTokens: Int? = nil,
                    finishReason: String? = nil, requestId: String? = nil, error: String? = nil) {
            self.panelist = panelist
            self.sample = sample
            self.status = status
            self.text = text
            self.latencyMs = latencyMs
            self.inputTokens = inputTokens
            self.outputTokens = outputTokens
            self.finishReason = finishReason
            self.requestId = requestId
            self.error = error
        }
    }

    public init(prompt: String?, panelists: [PanelistEntry], keyPoints: [KeyPoint], terms: [Term],
                conflicts: [Conflict], rubric: RubricCoverage?, omissions: [Omission], convergence: Convergence,
                analysis: Analysis?, filler: [Filler]? = nil) {
        self.schemaVersion = Self.schemaVersion
        self.filler = filler
        self.prompt = prompt
        self.panelists = panelists
        self.keyPoints = keyPoints
        self.terms = terms
        self.conflicts = conflicts
        self.rubric = rubric
        self.omissions = omissions
        self.convergence = convergence
        self.analysis = analysis
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(schemaVersion, forKey: .schemaVersion)
        try c.encode(prompt, forKey: .prompt)
        try c.encode(panelists, forKey: .panelists)
        try c.encode(keyPoints, forKey: .keyPoints)
        try c.encode(terms, forKey: .terms)
        try c.encode(conflicts, forKey: .conflicts)
        try c.encode(rubric, forKey: .rubric)
        try c.encode(omissions, forKey: .omissions)
        try c.encode(convergence, forKey: .convergence)
        try c.encodeIfPresent(analysis, forKey: .analysis)
        try c.encodeIfPresent(filler, forKey: .filler)
        try c.encodeIfPresent(turns, forKey: .turns)
        try c.encodeIfPresent(judge, forKey: .judge)
    }

    /// Panelists whose answers were analysed.
    public var answered: [PanelistEntry] { panelists.filter { $0.status == .answered } }
}
