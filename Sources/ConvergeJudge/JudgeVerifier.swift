import ConvergeAnalysis
import ConvergeCore

/// Holds a judge's reply to the answers: what it cites must be there, what it says nobody covers must be
/// uncovered by the matcher, and what it summarises must cite the analysis's key points.
///
/// - A supporter (or a contradiction's side) counts only when its quote is found in that panelist's answer
///   (`QuoteLocator`); its evidence is then the answer's exact words and offsets. A supporter whose answer does
///   not hold the words is removed (`removedSupport`); an unknown label is removed the same way.
/// - A consensus point needs two verified supporters, a unique point exactly one, a contradiction two verified
///   sides of different panelists; otherwise it is dropped, with the reason.
/// - Each verified point is linked to the key point whose evidence overlaps its cited words most (by scalar
///   offsets, same panelist), and `agreesWithMatcher` says whether the two supports are the same panelists.
/// - A blind spot is kept only when `Analyzer.coverage` finds no statement making it and it is not a rubric
///   item in other words; it then becomes an omission (`judge-1`, ...). Otherwise it is dropped, with why.
/// - A synthesis sentence keeps only the key point ids that exist, and only when it shares a content word with
///   the key points it cites (their labels and evidence): a sentence about something else is dropped.
/// - Every text of the judge is cut at ``maxText`` characters, without control or bidirectional-override
///   characters.
/// Pure and deterministic: the same reply gives the same section.
public struct JudgeVerifier: Sendable {
    public let input: AnalysisInput
    public let report: Report
    public let brief: JudgeBrief
    public let analyzer: Analyzer

    public init(input: AnalysisInput, report: Report, brief: JudgeBrief, analyzer: Analyzer) {
        self.input = input
        self.report = report
        self.brief = brief
        self.analyzer = analyzer
    }

    /// The omissions category that verified blind spots are listed under.
    public static let blindSpotCategory = "Blind spots (judge)"

    /// The verified parts of `reply` (in `judge`, whose model, status and timing fields the caller sets) and
    /// the omissions its verified blind spots become.
    public func verify(_ reply: JudgeReply) -> (claims: Claims, omissions: [Report.Omission]) {
        var claims = Claims()
        let reply = capped(reply, dropping: &claims.dropped)
        let locators = brief.answers.mapValues(QuoteLocator.init(answer:))
        // With repeat sampling, the judge saw each panelist's first sample: evidence says so.
        var answersOf: [String: Int] = [:]
        for answer in input.answers { answersOf[answer.panelist.id, default: 0] += 1 }
        let sample: Int? = answersOf.values.contains { $0 > 1 } || (input.samplesPerPanelist ?? 1) > 1 ? 0 : nil
        let labelOfId = Dictionary(uniqueKeysWithValues: report.panelists.map { ($0.id, $0.label) })

        for malformed in reply.malformed {
            claims.dropped.append(.init(kind: malformed.kind, text: malformed.text, reason: malformed.reason))
        }

        func panelist(_ label: String) -> String? {
            let key = label.trimmingWhitespace
            if let id = brief.panelistOf[key] { return id }
            // "AI3", "ai-3", "ai 3": the same blind label; "AI 02" or "AI  2" are not labels that were shown.
            var rest = Substring(key.lowercased())
            guard rest.hasPrefix("ai") else { return nil }
            rest = rest.dropFirst(2)
            if rest.first == " " || rest.first == "-" { rest = rest.dropFirst() }
            guard let first = rest.first, first != "0", rest.allSatisfy({ $0.isASCII && $0.isNumber }),
                  let n = Int(rest) else { return nil }
            return brief.panelistOf["AI \(n)"]
        }

        /// The cited words of `label`, located; or why not.
        func cite(_ label: String, _ quote: String) -> Result<(id: String, evidence: Report.Evidence), Unverified> {
            guard let id = panelist(label) else {
                return .failure(Unverified("“\(Self.shortened(label))” is not one of the labels the judge was shown"))
            }
            switch locators[id]!.locate(quote) {
            case .success(let range):
                let scalars = locators[id]!.scalars[range]
                var text = String.UnicodeScalarView()
                text.append(contentsOf: scalars)
                return .success((id, Report.Evidence(panelist: id, quote: String(text), start: range.lowerBound,
                                                     end: range.upperBound, sample: sample)))
            case .failure(let failure):
                return .failure(Unverified("\(labelOfId[id] ?? id): \(failure)"))
            }
        }

        func verifiedPoint(_ point: JudgeReply.Point, kind: Report.JudgeDroppedClaim.Kind, needs: Int,
                           atMost: Int = .max) -> Report.JudgeClaim? {
            var support: [String] = []
            var evidence: [Report.Evidence] = []
            var removed: [String] = []
            var reasons: [String] = []
            for citation in point.supporters {
                switch cite(citation.panelist, citation.quote) {
                case .success(let found):
                    // One supporter counts once, with its first verified words.
                    guard !support.contains(found.id) else { continue }
                    support.append(found.id)
                    evidence.append(found.evidence)
                case .failure(let reason):
                    if let id = panelist(citation.panelist), !removed.contains(id) { removed.append(id) }
                    reasons.append(reason.reason)
                }
            }
            removed.removeAll { support.contains($0) }
            guard support.count <= atMost else {
                claims.dropped.append(.init(kind: kind, text: point.text,
                                            reason: "\(support.count) panelists' words were found: not a point only one makes"))
                return nil
            }
            guard support.count >= needs else {
                let detail = reasons.isEmpty ? "" : " (\(reasons.joined(separator: "; ")))"
                let why = point.supporters.isEmpty ? "no supporter was named"
                    : support.isEmpty ? "no cited words were found in the answers\(detail)"
                    : "only \(support.count) supporter's words were found\(detail)"
                claims.dropped.append(.init(kind: kind, text: point.text, reason: why))
                return nil
            }
            let order = Dictionary(uniqueKeysWithValues: report.panelists.enumerated().map { ($1.id, $0) })
            support.sort { order[$0, default: .max] < order[$1, default: .max] }
            let keyPoint = linkedKeyPoint(evidence)
            return Report.JudgeClaim(text: point.text, support: support, evidence: evidence, removedSupport: removed,
                                     keyPoint: keyPoint?.id,
                                     agreesWithMatcher: keyPoint.map { Set($0.support) == Set(support) })
        }

        claims.consensus = reply.consensus.compactMap { verifiedPoint($0, kind: .consensus, needs: 2) }
        claims.unique = reply.unique.compactMap { verifiedPoint($0, kind: .unique, needs: 1, atMost: 1) }

        for contradiction in reply.contradictions {
            var sides: [Report.JudgeContradiction.Side] = []
            var reasons: [String] = []
            for side in contradiction.sides {
                switch cite(side.panelist, side.quote) {
                case .success(let found):
                    // One side per panelist: its first verified words.
                    guard !sides.contains(where: { $0.panelist == found.id }) else { continue }
                    sides.append(.init(panelist: found.id, stance: side.stance, evidence: found.evidence))
                case .failure(let reason):
                    reasons.append(reason.reason)
                }
            }
            if sides.count >= 2 {
                claims.contradictions.append(.init(topic: contradiction.topic, sides: sides))
            } else {
                let why = reasons.isEmpty
                    ? (sides.isEmpty ? "no side was given" : "every verified side is \(labelOfId[sides[0].panelist] ?? sides[0].panelist)'s")
                    : reasons.joined(separator: "; ")
                claims.dropped.append(.init(kind: .contradiction, text: contradiction.topic,
                                            reason: "fewer than two panelists' sides verified (\(why))"))
            }
        }

        var omissions: [Report.Omission] = []
        let spots = reply.blindSpots
        let coverage = analyzer.coverage(of: spots, in: input)
        let rubricItems = input.rubric?.items ?? []
        for (n, spot) in spots.enumerated() {
            let words = Self.contentWords(spot)
            if let item = rubricItems.first(where: { Self.sameWords(words, Self.contentWords($0.item.text)) })?.item {
                claims.dropped.append(.init(kind: .blindSpot, text: spot, reason: "it is the rubric's item \(item.id)"))
            } else if let covering = coverage[n].first {
                let who = labelOfId[covering.panelist] ?? covering.panelist
                claims.dropped.append(.init(kind: .blindSpot, text: spot,
                                            reason: "covered by \(who): “\(Self.shortened(covering.quote))”"))
            } else {
                let item = "judge-\(omissions.count + 1)"
                claims.blindSpots.append(.init(text: spot, item: item))
                omissions.append(Report.Omission(item: item, category: Self.blindSpotCategory, text: spot))
            }
        }

        let keyPoints = Dictionary(report.keyPoints.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        for sentence in reply.synthesis {
            let cited = sentence.keyPoints.map(\.trimmingWhitespace).filter { keyPoints[$0] != nil }
            var unique: [String] = []
            for id in cited where !unique.contains(id) { unique.append(id) }
            if unique.isEmpty {
                claims.dropped.append(.init(kind: .synthesis, text: sentence.text,
                                            reason: sentence.keyPoints.isEmpty ? "cites no key point"
                                                : "cites no key point of this report (\(sentence.keyPoints.joined(separator: ", ")))"))
                continue
            }
            // The cited key points' own words: their labels and evidence.
            var words = Set<String>()
            for id in unique {
                guard let point = keyPoints[id] else { continue }
                words.formUnion(Self.contentWords(point.label))
                for evidence in point.evidence { words.formUnion(Self.contentWords(evidence.quote)) }
            }
            if Self.contentWords(sentence.text).isDisjoint(with: words) {
                claims.dropped.append(.init(kind: .synthesis, text: sentence.text,
                                            reason: "shares no word with the key points it cites (\(unique.joined(separator: ", ")))"))
            } else {
                claims.synthesis.append(.init(text: sentence.text, keyPoints: unique))
            }
        }
        return (claims, omissions)
    }

    /// Most items read from each list of a reply (a judge that floods the report is cut off, and says so).
    public static let limits = (points: 100, contradictions: 50, blindSpots: 20, sentences: 30)
    /// Longest text of a claim, in characters; longer ones are shortened with `…`.
    public static let maxText = 500

    /// `reply` without repeated claims (same text and supporters), each list cut at `limits`, texts at
    /// `maxText`; what was cut is one dropped entry per list.
    func capped(_ reply: JudgeReply, dropping dropped: inout [Report.JudgeDroppedClaim]) -> JudgeReply {
        func cut(_ text: String) -> String {
            let text = Self.clean(text)
            return text.count <= Self.maxText ? text : String(text.prefix(Self.maxText - 1)) + "…"
        }
        func limit<T>(_ items: [T], _ max: Int, _ kind: Report.JudgeDroppedClaim.Kind, key: (T) -> String) -> [T] {
            var seen = Set<String>()
            let unique = items.filter { seen.insert(key($0)).inserted }
            if unique.count > max {
                dropped.append(.init(kind: kind, text: "\(unique.count - max) more", reason: "over the limit of \(max) read per list"))
            }
            return Array(unique.prefix(max))
        }
        func pointKey(_ p: JudgeReply.Point) -> String {
            p.text + "\u{1}" + p.supporters.map { $0.panelist + "\u{2}" + $0.quote }.joined(separator: "\u{1}")
        }
        func cutPoint(_ p: JudgeReply.Point) -> JudgeReply.Point {
            var point = p
            point.text = cut(p.text)
            return point
        }
        var out = reply
        out.consensus = limit(reply.consensus, Self.limits.points, .consensus, key: pointKey).map(cutPoint)
        out.unique = limit(reply.unique, Self.limits.points, .unique, key: pointKey).map(cutPoint)
        out.contradictions = limit(reply.contradictions, Self.limits.contradictions, .contradiction) { c in
            c.topic + "\u{1}" + c.sides.map { $0.panelist + "\u{2}" + $0.quote }.joined(separator: "\u{1}")
        }.map { c in
            var contradiction = c
            contradiction.topic = cut(c.topic)
            contradiction.sides = c.sides.map { side in
                var s = side
                s.stance = cut(side.stance)
                return s
            }
            return contradiction
        }
        out.blindSpots = limit(reply.blindSpots, Self.limits.blindSpots, .blindSpot) { $0 }.map(cut)
        out.synthesis = limit(reply.synthesis, Self.limits.sentences, .synthesis) { $0.text }.map { sentence in
            var s = sentence
            s.text = cut(sentence.text)
            return s
        }
        return out
    }

    /// The verified lists of a judge section.
    public struct Claims: Sendable, Equatable {
        public var consensus: [Report.JudgeClaim] = []
        public var unique: [Report.JudgeClaim] = []
        public var contradictions: [Report.JudgeContradiction] = []
        public var blindSpots: [Report.JudgeBlindSpot] = []
        public var synthesis: [Report.JudgeSynthesisSentence] = []
        public var dropped: [Report.JudgeDroppedClaim] = []
    }

    /// The key point whose evidence overlaps `evidence` most (scalars, same panelist); ties go to the first.
    func linkedKeyPoint(_ evidence: [Report.Evidence]) -> Report.KeyPoint? {
        var best: (point: Report.KeyPoint, overlap: Int)?
        for point in report.keyPoints {
            var overlap = 0
            for e in evidence {
                for k in point.evidence where k.panelist == e.panelist && (k.sample ?? 0) == (e.sample ?? 0) {
                    overlap += max(0, min(e.end, k.end) - max(e.start, k.start))
                }
            }
            if overlap > 0, best == nil || overlap > best!.overlap { best = (point, overlap) }
        }
        return best?.point
    }

    /// Why a citation was not verified.
    struct Unverified: Error {
        var reason: String
        init(_ reason: String) { self.reason = reason }
    }

    /// `text` without control characters (a tab or line break becomes a space) and without the bidirectional
    /// embedding, override and isolate characters that could reorder what a reader sees (U+202A-U+202E,
    /// U+2066-U+2069).
    static func clean(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if scalar == "\t" || scalar == "\n" || scalar == "\r" {
                out.append(" ")
            } else if scalar.properties.generalCategory == .control || (0x202A...0x202E).contains(scalar.value)
                        || (0x2066...0x2069).contains(scalar.value) {
                continue
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }

    /// The content words of `text`: lowercased letter-or-digit runs of four or more characters that are not
    /// common function words, each cut to its first five characters (a crude stem: "seasoning" and "season"
    /// are one word).
    static func contentWords(_ text: String) -> Set<String> {
        var words = Set<String>()
        for run in text.lowercased().split(whereSeparator: { !($0.isLetter || $0.isNumber) }) where run.count >= 4 {
            let word = String(run)
            if Self.functionWords.contains(word) { continue }
            words.insert(String(word.prefix(5)))
        }
        return words
    }

    /// Whether two content-word sets say the same: each holds at least two thirds of the other's words.
    static func sameWords(_ a: Set<String>, _ b: Set<String>) -> Bool {
        guard !a.isEmpty, !b.isEmpty else { return false }
        let shared = Double(a.intersection(b).count)
        return shared * 3 >= Double(a.count) * 2 && shared * 3 >= Double(b.count) * 2
    }

    static let functionWords: Set<String> = [
        "about", "after", "also", "always", "answer", "answers", "been", "being", "both", "each", "every", "from",
        "have", "into", "more", "most", "must", "none", "only", "other", "over", "panel", "panelist", "panelists",
        "same", "should", "some", "such", "than", "that", "their", "them", "then", "there", "these", "they", "this",
        "those", "very", "what", "when", "which", "while", "will", "with", "would", "your",
    ]

    static func shortened(_ text: String) -> String {
        text.count <= 80 ? text : String(text.prefix(79)) + "…"
    }
}
