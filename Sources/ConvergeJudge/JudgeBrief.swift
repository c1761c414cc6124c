import ConvergeCore
import ConvergeProviders

/// What the judge is shown: the question, every answering panelist's answer under a blind label (`AI 1`,
/// `AI 2`, ...) in a shuffled order, and the key points the deterministic analysis found (by id), with the
/// reply contract (`schema/judge-reply-v1.json`).
///
/// Blind labels and a shuffled order guard against two known biases of model judges: preferring their own or
/// a famous model's answer, and preferring an answer for its position (Zheng et al. 2023, "Judging
/// LLM-as-a-Judge with MT-Bench and Chatbot Arena", §3.3). The order is a Fisher-Yates shuffle (Knuth, TAOCP
/// vol. 2, Algorithm P) driven by SplitMix64 seeded with `seed`, by default an FNV-1a hash of the prompt and
/// the answers: the same panel gets the same order every time, so a judge's request can be cached and a
/// run repeated. Only the first answer of each panelist is shown; after follow-ups (`Report.turns`), the earlier
/// questions come first.
public struct JudgeBrief: Sendable {
    /// The blind label of each answering panelist id (`AI k` is the k-th answer shown).
    public let labelOf: [String: String]
    /// The panelist id behind each blind label.
    public let panelistOf: [String: String]
    /// Panelist ids in the order the judge sees their answers.
    public let order: [String]
    /// Each shown panelist's answer text.
    public let answers: [String: String]
    public let messages: [ChatMessage]

    public init(input: AnalysisInput, report: Report, seed: UInt64? = nil) {
        var firstAnswer: [String: String] = [:]
        var ids: [String] = []
        for answer in input.answers where firstAnswer[answer.panelist.id] == nil {
            firstAnswer[answer.panelist.id] = answer.text
            ids.append(answer.panelist.id)
        }
        // Panel order first (as the report lists them), then shuffled.
        let panelOrder = report.panelists.map(\.id).filter { firstAnswer[$0] != nil }
        ids = panelOrder + ids.filter { !panelOrder.contains($0) }
        var generator = SplitMix64(seed: seed ?? Self.fingerprint(input.prompt, ids.map { firstAnswer[$0]! }))
        for i in stride(from: ids.count - 1, to: 0, by: -1) {
            let j = Int(generator.next() % UInt64(i + 1))
            ids.swapAt(i, j)
        }
        var labelOf: [String: String] = [:]
        for (n, id) in ids.enumerated() { labelOf[id] = "AI \(n + 1)" }
        self.labelOf = labelOf
        self.panelistOf = Dictionary(uniqueKeysWithValues: labelOf.map { ($1, $0) })
        self.order = ids
        self.answers = firstAnswer

        var user = ""
        // After follow-ups the answers continue a conversation: the judge sees the questions before the last.
        let earlier = (report.turns ?? []).sorted { $0.index < $1.index }.dropLast().map(\.prompt.trimmingWhitespace)
        if !earlier.isEmpty {
            user += "# Earlier questions of this conversation (the answers continue it)\n\n"
            user += earlier.enumerated().map { "\($0 + 1). \($1)" }.joined(separator: "\n") + "\n\n"
        }
        if let prompt = input.prompt?.trimmingWhitespace, !prompt.isEmpty {
            user += "# The question\n\n\(prompt)\n\n"
        }
        user += "# The answers\n\n"
        for id in ids {
            user += "## \(labelOf[id]!)\n\n\(firstAnswer[id]!.trimmingWhitespace)\n\n"
        }
        if !report.keyPoints.isEmpty {
            user += "# Key points found by matching (cite their ids in the synthesis)\n\n"
            for point in report.keyPoints {
                let support = point.support.compactMap { labelOf[$0] }.joined(separator: ", ")
                user += "- \(point.id): \(point.label) (\(support))\n"
            }
            user += "\n"
        }
        user += "Reply with the JSON object only."
        messages = [.system(Self.instructions), .user(user)]
    }

    /// The judge's task and the reply contract.
    public static let instructions = """
        You compare several answers to one question, as a careful editor would. The answers are labelled \
        AI 1, AI 2, ...; judge only what they say. Every claim you make must cite the exact words of the \
        answers: copy each quote verbatim from the answer you attribute it to (a sentence or a phrase of at \
        least three words), never paraphrase inside a quote.

        Reply with one JSON object and nothing else, with these fields (each a list; leave a list empty when \
        there is nothing to say):
        {
          "consensus": [{"point": "a point two or more answers make", "supporters": [{"panelist": "AI 1", \
        "quote": "exact words of AI 1"}, {"panelist": "AI 2", "quote": "exact words of AI 2"}]}],
          "unique": [{"point": "a point only one answer makes", "supporters": [{"panelist": "AI 3", "quote": "exact words of AI 3"}]}],
          "contradictions": [{"topic": "what they disagree on", "sides": [{"panelist": "AI 1", "stance": "its position", \
        "quote": "exact words"}, {"panelist": "AI 2", "stance": "the opposite position", "quote": "exact words"}]}],
          "blindSpots": [{"point": "something a complete answer would cover that none of the answers mentions"}],
          "synthesis": [{"sentence": "one sentence of what the panel concludes", "keyPoints": ["kp-1", "kp-3"]}]
        }
        """

    /// FNV-1a (64-bit) over the prompt and the answers, separated by a NUL scalar.
    static func fingerprint(_ prompt: String?, _ answers: [String]) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for text in [prompt ?? ""] + answers {
            for byte in text.utf8 + [0] {
                hash ^= UInt64(byte)
                hash = hash &* 0x100_0000_01b3
            }
        }
        return hash
    }
}

/// SplitMix64 (Steele, Lea & Flood 2014, "Fast splittable pseudorandom number generators"): a small,
/// well-mixed generator, here only to shuffle the answers reproducibly.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
