extension Report {
    /// What a judge model said about the panel, held to the answers (addition to schema v1; absent unless a
    /// judge was asked). Every claim shown here was verified: each supporter's cited words were found in that
    /// supporter's answer (`evidence` gives their exact place); what could not be verified is in `dropped`
    /// with the reason. Panelist ids are the report's own (the judge saw blind, shuffled labels).
    public struct Judge: Sendable, Equatable, Codable {
        public enum Status: String, Sendable, Equatable, Codable {
            /// The judge replied with the contract's JSON; its claims were checked.
            case verified
            /// No usable reply (provider error, timeout, invalid JSON twice): the report is the deterministic one.
            case failed
        }

        /// The judge's model spec as given (`openai/gpt-4o`).
        public var model: String
        public var status: Status
        /// Why the judge failed (`status == .failed`), or what went wrong on the way (a repaired reply).
        public var error: String?
        /// Whether the judge's model is also a panelist (self-preference is a known bias of model judges).
        public var onPanel: Bool
        /// Requests made: 1, or 2 when the first reply was not valid JSON and a repair was asked for.
        public var attempts: Int
        /// Wall-clock time of the judge's requests, in milliseconds, summed over attempts.
        public var latencyMs: Int?
        public var inputTokens: Int?
        public var outputTokens: Int?
        /// Whether a reply came from the response cache (an identical request answered before) instead of the
        /// network; its latency and tokens are those of the stored answer.
        public var fromCache: Bool
        /// Points the judge says two or more panelists make, each with at least two verified supporters.
        public var consensus: [Claim]
        /// Points the judge says only one panelist makes.
        public var unique: [Claim]
        /// Places where panelists take opposite stances, each side verified.
        public var contradictions: [Contradiction]
        /// What a complete answer would cover that no panelist does, kept only when the matcher finds no
        /// statement making it (each also listed in the report's `omissions` with its `item` id).
        public var blindSpots: [BlindSpot]
        /// The judge's summary of the panel's view: only sentences citing at least one existing key point.
        public var synthesis: [SynthesisSentence]
        /// What the judge claimed that was not kept, and why.
        public var dropped: [DroppedClaim]

        public init(model: String, status: Status, error: String? = nil, onPanel: Bool, attempts: Int,
                    latencyMs: Int? = nil, inputTokens: Int? = nil, outputTokens: Int? = nil, fromCache: Bool = false,
                    consensus: [Claim] = [],
                    unique: [Claim] = [], contradictions: [Contradiction] = [], blindSpots: [BlindSpot] = [],
                    synthesis: [SynthesisSentence] = [], dropped: [DroppedClaim] = []) {
            self.model = model
            self.status = status
            self.error = error
            self.onPanel = onPanel
            self.attempts = attempts
            self.latencyMs = latencyMs
            self.inputTokens = inputTokens
            self.outputTokens = outputTokens
            self.fromCache = fromCache
            self.consensus = consensus
            self.unique = unique
            self.contradictions = contradictions
            self.blindSpots = blindSpots
            self.synthesis = synthesis
            self.dropped = dropped
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(model, forKey: .model)
            try c.encode(status, forKey: .status)
            try c.encode(error, forKey: .error)
            try c.encode(onPanel, forKey: .onPanel)
            try c.encode(attempts, forKey: .attempts)
            try c.encode(latencyMs, forKey: .latencyMs)
            try c.encode(inputTokens, forKey: .inputTokens)
            try c.encode(outputTokens, forKey: .outputTokens)
            try c.encode(fromCache, forKey: .fromCache)
            try c.encode(consensus, forKey: .consensus)
            try c.encode(unique, forKey: .unique)
            try c.encode(contradictions, forKey: .contradictions)
            try c.encode(blindSpots, forKey: .blindSpots)
            try c.encode(synthesis, forKey: .synthesis)
            try c.encode(dropped, forKey: .dropped)
        }

        enum CodingKeys: String, CodingKey {
            case model, status, error, onPanel, attempts, latencyMs, inputTokens, outputTokens, fromCache, consensus, unique
            case contradictions, blindSpots, synthesis, dropped
        }

        // `fromCache` came after the first reports with a judge: absent means false.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.init(model: try c.decode(String.self, forKey: .model), status: try c.decode(Status.self, forKey: .status),
                      error: try c.decodeIfPresent(String.self, forKey: .error),
                      onPanel: try c.decode(Bool.self, forKey: .onPanel), attempts: try c.decode(Int.self, forKey: .attempts),
                      latencyMs: try c.decodeIfPresent(Int.self, forKey: .latencyMs),
                      inputTokens: try c.decodeIfPresent(Int.self, forKey: .inputTokens),
                      outputTokens: try c.decodeIfPresent(Int.self, forKey: .outputTokens),
                      fromCache: try c.decodeIfPresent(Bool.self, forKey: .fromCache) ?? false,
                      consensus: try c.decode([Claim].self, forKey: .consensus),
                      unique: try c.decode([Claim].self, forKey: .unique),
                      contradictions: try c.decode([Contradiction].self, forKey: .contradictions),
                      blindSpots: try c.decode([BlindSpot].self, forKey: .blindSpots),
                      synthesis: try c.decode([SynthesisSentence].self, forKey: .synthesis),
                      dropped: try c.decode([DroppedClaim].self, forKey: .dropped))
        }
    }

    /// A point the judge says some panelists make, with their verified words.
    public struct JudgeClaim: Sendable, Equatable, Codable {
        /// The point in the judge's words (text, never markup).
        public var text: String
        /// Panelists whose cited words were found in their answers.
        public var support: [String]
        /// For each supporter, the cited words as they stand in the answer, with their exact place.
        public var evidence: [Evidence]
        /// Panelists the judge named whose answers do not contain the words it cited for them.
        public var removedSupport: [String]
        /// The key point of the deterministic analysis whose evidence holds the cited words (most overlap), if any.
        public var keyPoint: String?
        /// Whether the judge's verified support equals that key point's support (`nil` without a key point):
        /// `false` marks where the judge and the matcher disagree.
        public var agreesWithMatcher: Bool?

        public init(text: String, support: [String], evidence: [Evidence], removedSupport: [String] = [],
                    keyPoint: String? = nil, agreesWithMatcher: Bool? = nil) {
            self.text = text
            self.support = support
            self.evidence = evidence
            self.removedSupport = removedSupport
            self.keyPoint = keyPoint
            self.agreesWithMatcher = agreesWithMatcher
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(text, forKey: .text)
            try c.encode(support, forKey: .support)
            try c.encode(evidence, forKey: .evidence)
            try c.encode(removedSupport, forKey: .removedSupport)
            try c.encode(keyPoint, forKey: .keyPoint)
            try c.encode(agreesWithMatcher, forKey: .agreesWithMatcher)
        }
    }

    /// Opposite stances on one topic, each side a panelist's verified words.
    public struct JudgeContradiction: Sendable, Equatable, Codable {
        public struct Side: Sendable, Equatable, Codable {
            public var panelist: String
            /// The side's stance in the judge's words.
            public var stance: String
            public var evidence: Evidence

            public init(panelist: String, stance: String, evidence: Evidence) {
                self.panelist = panelist
                self.stance = stance
                self.evidence = evidence
            }
        }

        public var topic: String
        /// At least two sides, of different panelists.
        public var sides: [Side]

        public init(topic: String, sides: [Side]) {
            self.topic = topic
            self.sides = sides
        }
    }

    /// Something no panelist covers, by the judge, confirmed by the matcher finding no statement that makes it.
    public struct JudgeBlindSpot: Sendable, Equatable, Codable {
        public var text: String
        /// The id of the omission it became (`judge-1`, ...), in the report's `omissions`.
        public var item: String

        public init(text: String, item: String) {
            self.text = text
            self.item = item
        }
    }

    /// One sentence of the judge's synthesis and the key points it cites (existing ids only).
    public struct JudgeSynthesisSentence: Sendable, Equatable, Codable {
        public var text: String
        public var keyPoints: [String]

        public init(text: String, keyPoints: [String]) {
            self.text = text
            self.keyPoints = keyPoints
        }
    }

    /// A claim of the judge that was not kept.
    public struct JudgeDroppedClaim: Sendable, Equatable, Codable {
        public enum Kind: String, Sendable, Equatable, Codable {
            case consensus, unique, contradiction, blindSpot, synthesis
        }

        public var kind: Kind
        public var text: String
        /// Why, in plain words (`no cited words were found in the answers`, `covered by AI 2: "..."`).
        public var reason: String

        public init(kind: Kind, text: String, reason: String) {
            self.kind = kind
            self.text = text
            self.reason = reason
        }
    }
}

extension Report.Judge {
    public typealias Claim = Report.JudgeClaim
    public typealias Contradiction = Report.JudgeContradiction
    public typealias BlindSpot = Report.JudgeBlindSpot
    public typealias SynthesisSentence = Report.JudgeSynthesisSentence
    public typealias DroppedClaim = Report.JudgeDroppedClaim
}
