import ConvergeCore

/// The report of a batch: how each panelist fared across many prompts, from the surveys' own ``Report``s
/// (``BatchReport/init(batch:entries:prices:)``). Batch report JSON schema version 1,
/// `schema/batch-report-v1.json`; fields may be added, never renamed.
///
/// Shares and rates are fractions in [0, 1], rounded to 4 decimals; latencies are milliseconds; costs are US
/// dollars. A figure that cannot be known (no latency recorded, no price set, no rubric) is `nil` (JSON `null`,
/// shown as "unknown" or "n/a").
public struct BatchReport: Sendable, Hashable, Codable {
    public static let schemaVersion = 1

    /// What one survey of the batch contributes.
    public struct Entry: Sendable {
        /// The item's id in the batch file.
        public var itemID: String
        public var surveyID: String
        /// The survey's newest report; `nil` when it has none yet (not asked, or interrupted).
        public var report: Report?

        public init(itemID: String, surveyID: String, report: Report?) {
            self.itemID = itemID
            self.surveyID = surveyID
            self.report = report
        }
    }

    /// A model's price, US dollars per million tokens.
    public struct Price: Sendable, Hashable, Codable {
        public var inputPerMillion: Double
        public var outputPerMillion: Double

        public init(inputPerMillion: Double, outputPerMillion: Double) {
            self.inputPerMillion = inputPerMillion
            self.outputPerMillion = outputPerMillion
        }
    }

    /// Latency percentiles of a panelist's answers, in milliseconds (nearest rank).
    public struct Latency: Sendable, Hashable, Codable {
        public var p50: Double
        public var p95: Double
        /// Answers with a recorded latency.
        public var count: Int
    }

    /// What a panelist left out, over the prompts it answered that have a rubric or a judge's verified report.
    public struct Omissions: Sendable, Hashable, Codable {
        /// Rubric items it was checked against.
        public var items: Int
        /// Of those, items it does not cover.
        public var missed: Int
        /// `missed / items`; `nil` without a rubric item.
        public var rate: Double?
        /// Blind spots a judge verified (points no panelist makes), summed over the prompts it answered where
        /// a judge's report was verified: the whole panel left these out.
        public var judgeBlindSpots: Int
    }

    /// One panelist across the batch (by panelist id: the same id in every survey is the same panelist).
    public struct Panelist: Sendable, Hashable, Codable {
        public var id: String
        public var label: String
        public var model: String?
        /// Prompts whose panel has it.
        public var prompts: Int
        /// Of those, prompts it answered.
        public var answered: Int
        /// Prompts it failed (no answer) over ``prompts``.
        public var failureRate: Double
        /// Key points it supports, summed over prompts.
        public var keyPoints: Int
        /// Share of its key points that at least one other panelist makes too; `nil` with no key point.
        public var sharedShare: Double?
        /// Share of its key points that nobody else makes; `nil` with no key point.
        public var uniqueShare: Double?
        /// Prompts (with at least 3 answering panelists) where its mean agreement with the others is the lowest
        /// (strictly: a tie makes no outlier).
        public var outlier: Int
        /// ``outlier`` over the prompts where it answered among at least 3.
        public var outlierRate: Double?
        /// `nil` where no prompt it answered has a rubric or a verified judge.
        public var omissions: Omissions?
        public var latencyMs: Latency?
        /// Tokens summed over its answers that report them (`nil` where none does).
        public var inputTokens: Int?
        public var outputTokens: Int?
        /// US dollars from ``Price`` for its model; `nil` (unknown) without a price or token counts.
        public var costUSD: Double?
    }

    /// One prompt of the batch.
    public struct Item: Sendable, Hashable, Codable {
        public var id: String
        public var survey: String
        public var prompt: String?
        /// The survey's convergence index; `nil` without a report.
        public var convergence: Double?
        public var panelSize: Int
        public var answered: Int
        /// The panelist with the lowest mean agreement with the rest, if one is strictly lowest.
        public var outlier: String?
        public var keyPoints: Int
    }

    public var schemaVersion: Int
    /// The batch's id, when it is stored.
    public var batch: String?
    public var panelists: [Panelist]
    /// Mean pairwise agreement (Jaccard of supported key points) over the prompts both answered, by panelist id;
    /// 1 on the diagonal.
    public var agreement: [String: [String: Double]]
    /// Mean convergence index over the prompts with a report.
    public var meanConvergence: Double?
    /// The prompts, lowest convergence first (prompts without a report last, in batch order).
    public var items: [Item]
}

// Every field is written, `nil` as JSON `null` (as report JSON does): a reader sees "unknown", not a gap.
extension BatchReport.Panelist {
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(label, forKey: .label)
        try c.encode(model, forKey: .model)
        try c.encode(prompts, forKey: .prompts)
        try c.encode(answered, forKey: .answered)
        try c.encode(failureRate, forKey: .failureRate)
        try c.encode(keyPoints, forKey: .keyPoints)
        try c.encode(sharedShare, forKey: .sharedShare)
        try c.encode(uniqueShare, forKey: .uniqueShare)
        try c.encode(outlier, forKey: .outlier)
        try c.encode(outlierRate, forKey: .outlierRate)
        try c.encode(omissions, forKey: .omissions)
        try c.encode(latencyMs, forKey: .latencyMs)
        try c.encode(inputTokens, forKey: .inputTokens)
        try c.encode(outputTokens, forKey: .outputTokens)
        try c.encode(costUSD, forKey: .costUSD)
    }
}

extension BatchReport.Item {
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(survey, forKey: .survey)
        try c.encode(prompt, forKey: .prompt)
        try c.encode(convergence, forKey: .convergence)
        try c.encode(panelSize, forKey: .panelSize)
        try c.encode(answered, forKey: .answered)
        try c.encode(outlier, forKey: .outlier)
        try c.encode(keyPoints, forKey: .keyPoints)
    }
}

extension BatchReport {
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(schemaVersion, forKey: .schemaVersion)
        try c.encode(batch, forKey: .batch)
        try c.encode(panelists, forKey: .panelists)
        try c.encode(agreement, forKey: .agreement)
        try c.encode(meanConvergence, forKey: .meanConvergence)
        try c.encode(items, forKey: .items)
    }
}
