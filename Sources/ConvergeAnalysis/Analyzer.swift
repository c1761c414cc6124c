import ConvergeCore

/// Consolidates a panel's answers into an evidence-linked report: a pure, deterministic function of the
/// answers, the rubric, the prompt and the settings (ARCHITECTURE.md, "Data flow": segment → represent → match →
/// score).
///
/// Several answers with the same panelist id are samples of that panelist: support counts a panelist once,
/// and each key point gets its stability per panelist (the share of that panelist's samples that make it).
/// Panelists of `AnalysisInput.panel` without answers are reported as failed, with their error; consensus
/// levels and the convergence index count answering panelists only.
public struct Analyzer: Sendable {
    public static let engineVersion = "converge-analysis 0.2.0"

    public var similarity: any SimilarityModel
    /// Report panelists as `AI 1`, `AI 2`, ... with ids `ai-1`, `ai-2`, ... and no model names.
    public var blind: Bool

    public init(similarity: any SimilarityModel = LexicalSimilarity(), blind: Bool = false) {
        self.similarity = similarity
        self.blind = blind
    }

    public func analyze(_ input: AnalysisInput) -> Report {
        let report = Run(input: input, model: similarity).report()
        return blind ? report.blinded() : report
    }

    /// The texts `analyze(input)` hands to the similarity model's sentence encoder: every statement of the
    /// answers (filler included), then the rubric's items, in that order. Segmentation only: cheap next to
    /// encoding, so that a cache can be filled before the analysis (`CachingSentenceEncoder`).
    public static func encodedTexts(for input: AnalysisInput) -> [String] {
        var texts: [String] = []
        for (a, answer) in input.answers.enumerated() {
            texts += Segmenter.statements(of: Array(answer.text.unicodeScalars), answerIndex: a).map(\.text)
        }
        return texts + (input.rubric?.items.map(\.item.text) ?? [])
    }

    /// Which statements of the answers make each of `items` (points in plain words, as rubric items are),
    /// by the same segmentation, filler rule and similarity model as `analyze`: for each item, the evidence of
    /// every statement whose rubric score reaches the model's `rubricThreshold` (panelist ids unblinded; empty
    /// when no panelist makes it). Used to check a judge's claimed blind spots.
    public func coverage(of items: [String], in input: AnalysisInput) -> [[Report.Evidence]] {
        Run(input: input, model: similarity).coverage(of: items)
    }
}

/// One analysis, step by step.
private struct Run {
    let input: AnalysisInput
    let model: any SimilarityModel

    /// Distinct panelists in input order, and which one each answer belongs to.
    let panelists: [Panelist]
    let panelistOfAnswer: [Int]
    let scalars: [[Unicode.Scalar]]
    let statements: [Statement]
    /// The block whose point each statement explains (`PointBlocks`).
    let pointBlock: [[Int]]
    /// Statements that take part in matching (not filler).
    let matchable: [Int]
    /// Statements set aside as filler, with the reason.
    let filler: [Int: FillerDetector.Reason]

    /// Sample number of each answer within its panelist's answers, and how many samples each panelist has.
    let sampleOfAnswer: [Int]
    let samplesOfPanelist: [Int]

    init(input original: AnalysisInput, model: any SimilarityModel) {
        let input = Run.inCanonicalOrder(original)
        self.input = input
        self.model = model
        // Answering panelists, in panel order when the panel is given, else in order of first answer (as given).
        var order: [String] = []
        var first: [String: Panelist] = [:]
        for answer in original.answers where first[answer.panelist.id] == nil {
            first[answer.panelist.id] = answer.panelist
            order.append(answer.panelist.id)
        }
        if let panel = input.panel {
            let position = Dictionary(panel.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { a, _ in a })
            order.sort { (position[$0] ?? Int.max, $0) < (position[$1] ?? Int.max, $1) }
        }
        let indexOf = Dictionary(uniqueKeysWithValues: order.enumerated().map { ($1, $0) })
        self.panelists = order.map { first[$0]! }
        self.panelistOfAnswer = input.answers.map { indexOf[$0.panelist.id]! }
        var samples = [Int](repeating: 0, count: order.count)
        var sampleOfAnswer: [Int] = []
        for p in panelistOfAnswer {
            sampleOfAnswer.append(samples[p])
            samples[p] += 1
        }
        self.sampleOfAnswer = sampleOfAnswer
        self.samplesOfPanelist = samples
        self.scalars = input.answers.map { Array($0.text.unicodeScalars) }
        var statements: [Statement] = []
        for (a, s) in scalars.enumerated() { statements += Segmenter.statements(of: s, answerIndex: a) }
        self.statements = statements
        self.pointBlock = PointBlocks.of(statements)
        // Filler is set aside. An answer of nothing but headings keeps them as its points (they are all it
        // says); an answer of nothing but pleasantries or announcements makes no point.
        var filler = FillerDetector.classify(statements, answers: scalars, prompt: input.prompt, pointBlock: pointBlock)
        var onlyHeadings = Set(scalars.indices)
        for (i, s) in statements.enumerated() where filler[i] != .sectionHeading { onlyHeadings.remove(s.answerIndex) }
        for i in statements.indices where onlyHeadings.contains(statements[i].answerIndex) { filler[i] = nil }
        self.filler = filler
        self.matchable = statements.indices.filter { filler[$0] == nil }
    }

    /// The input with its answers in an order that does not depend on the order they were given in: panelists
    /// by their answers' text (then id), each panelist's samples in their given order (sample numbers keep their
    /// meaning). Every later step (similarity sums, tie-breaks, block and group order) then sees the same
    /// sequence for the same set of answers, so the report depends only on that set; panelists are still
    /// listed in the given order.
    static func inCanonicalOrder(_ input: AnalysisInput) -> AnalysisInput {
        var byPanelist: [String: [Answer]] = [:]
        for answer in input.answers { byPanelist[answer.panelist.id, default: []].append(answer) }
        let keyed = byPanelist.map { id, answers in (key: answers.map(\.text).joined(separator: "\u{0}"), id: id) }
        var canonical = input
        canonical.answers = keyed.sorted { ($0.key, $0.id) < ($1.key, $1.id) }.flatMap { byPanelist[$0.id]! }
        return canonical
    }

    /// A position for every statement that does not depend on the order of the answers: by statement text,
    /// then its answer's text, then its offset (ties between equal scores break on it).
    func canonicalRank() -> [Int] {
        let order = statements.indices.sorted { l, r in
            let (a, b) = (statements[l], statements[r])
            if a.text != b.text { return a.text < b.text }
            if a.answerIndex != b.answerIndex {
                let (ta, tb) = (input.answers[a.answerIndex].text, input.answers[b.answerIndex].text)
                if ta != tb { return ta < tb }
            }
            return (a.start, a.answerIndex) < (b.start, b.answerIndex)
        }
        var rank = [Int](repeating: 0, count: statements.count)
        for (position, s) in order.enumerated() { rank[s] = position }
        return rank
    }

    func report() -> Report {
        let answerOf = statements.map(\.answerIndex)
        let rubricItems = input.rubric?.items ?? []
        // Sentences of clauses, each once (only rubric coverage reads them).
        var contexts: [String] = []
        var contextOfStatement = [Int?](repeating: nil, count: statements.count)
        if input.rubric != nil {
            var seen: [[Int]: Int] = [:]
            for (i, s) in statements.enumerated() {
                guard let sentence = s.sentence else { continue }
                let key = [s.answerIndex, sentence.lowerBound, sentence.upperBound]
                if seen[key] == nil {
                    seen[key] = contexts.count
                    contexts.append(scalars[s.answerIndex].string(sentence))
                }
                contextOfStatement[i] = seen[key]
            }
        }
        let prepared = model.prepare(SimilarityInput(statements: statements.map(\.text), answerOfStatement: answerOf,
                                                     contexts: contexts, contextOfStatement: contextOfStatement,
                                                     rubricItems: rubricItems.map(\.item.text),
                                                     prompt: input.prompt))
        let matchableSet = Set(matchable)

        // Rubric coverage: which statements make each item.
        var itemStatements: [[(statement: Int, score: Double)]] = []
        for item in rubricItems.indices {
            let made = prepared.rubricCandidates(item: item).filter(matchableSet.contains).compactMap { s in
                let score = prepared.rubricScore(item: item, statement: s)
                return score >= model.rubricThreshold ? (s, score) : nil
            }
            itemStatements.append(made)
        }
        let anchored = Set(itemStatements.flatMap { $0.map(\.statement) })

        // Key points: one per rubric item that anyone makes, then clusters of the other statements.
        var groups: [(statements: [Int], rubricItem: Int?)] = []
        for (item, made) in itemStatements.enumerated() where !made.isEmpty {
            groups.append((made.map(\.statement).sorted(), item))
        }
        let free = matchable.filter { !anchored.contains($0) }
        let clusterer = KeyPointClusterer(threshold: model.clusterThreshold)
        let rank = canonicalRank()
        var clusters = clusterer.cluster(free, answerOf: answerOf, similarity: prepared, rank: rank)
        clusters = BlockJoiner(statements: statements, similarity: prepared, threshold: model.clusterThreshold,
                               pointBlock: pointBlock)
            .join(clusters)
        if let mergeThreshold = model.mergeThreshold {
            let panelistOfStatement = statements.map { panelistOfAnswer[$0.answerIndex] }
            clusters = KeyPointMerger(minimum: mergeThreshold, linkThreshold: mergeThreshold)
                .merge(clusters, panelistOf: panelistOfStatement, answerOf: answerOf, similarity: prepared)
        }
        clusters = Run.joiningRepeats(clusters, statements: statements)
        clusters = RestatementJoiner().join(clusters, statements: statements)
        clusters.sort { lhs, rhs in
            let (l, r) = (support(lhs).count, support(rhs).count)
            return l != r ? l > r : lhs[0] < rhs[0]
        }
        let clusterLabels = clusters.map { label($0, prepared, rank: rank) }
        let clusterCategories = input.rubric == nil
            ? Categorizer().categories(clusters, labels: clusterLabels, statements: statements, similarity: prepared,
                                       rank: rank)
            : clusters.map { _ in nil }
        groups += clusters.map { ($0, nil) }

        let firstCluster = groups.count - clusters.count
        let answered = panelists.count
        var keyPoints: [Report.KeyPoint] = []
        for (n, group) in groups.enumerated() {
            let supporters = support(group.statements)
            let item = group.rubricItem.map { rubricItems[$0] }
            keyPoints.append(Report.KeyPoint(
                id: "kp-\(n + 1)",
                label: item?.item.text ?? clusterLabels[n - firstCluster],
                category: item?.category ?? (n >= firstCluster ? clusterCategories[n - firstCluster] : nil),
                support: supporters.map { panelists[$0].id },
                consensus: ConsensusLevel(support: supporters.count, panelSize: answered),
                evidence: group.statements.map(evidence),
                rubricItem: item?.item.id,
                stability: stability(group.statements)))
        }

        var rubricCoverage: Report.RubricCoverage?
        var omissions: [Report.Omission] = []
        if let rubric = input.rubric {
            var items: [Report.RubricItemCoverage] = []
            for (index, entry) in rubricItems.enumerated() {
                // The best statement of each supporting panelist is the evidence.
                var best: [Int: (statement: Int, score: Double)] = [:]
                for made in itemStatements[index] {
                    let p = panelistOfAnswer[statements[made.statement].answerIndex]
                    if let current = best[p], current.score >= made.score { continue }
                    best[p] = made
                }
                let supporters = best.keys.sorted()
                items.append(Report.RubricItemCoverage(
                    id: entry.item.id, category: entry.category, text: entry.item.text,
                    support: supporters.map { panelists[$0].id },
                    evidence: supporters.map { evidence(best[$0]!.statement) }))
                if supporters.isEmpty {
                    omissions.append(Report.Omission(item: entry.item.id, category: entry.category,
                                                     text: entry.item.text))
                }
            }
            rubricCoverage = Report.RubricCoverage(title: rubric.title, items: items)
        }

        let mentions = TermExtractor().mentions(answers: scalars, statements: statements)
        let answeredIds = Set(panelists.map(\.id))
        let entries = (input.panel ?? panelists).map { panelist in
            answeredIds.contains(panelist.id)
                ? Report.PanelistEntry(id: panelist.id, label: panelist.label, model: panelist.model, status: .answered,
                                       error: input.failures[panelist.id])
                : Report.PanelistEntry(id: panelist.id, label: panelist.label, model: panelist.model, status: .failed,
                                       error: input.failures[panelist.id] ?? "no answer")
        }
        return Report(
            prompt: input.prompt,
            panelists: entries,
            keyPoints: keyPoints,
            terms: terms(mentions),
            conflicts: ConflictFinder.conflicts(keyPoints: keyPoints, groups: groups.map(\.statements),
                                                statements: statements, mentions: mentions,
                                                panelistOfAnswer: panelistOfAnswer, panelists: panelists),
            rubric: rubricCoverage,
            omissions: omissions,
            convergence: ConvergenceIndex.compute(keyPoints: keyPoints, panelists: panelists.map(\.id)),
            analysis: Report.Analysis(engine: Analyzer.engineVersion, similarity: model.name,
                                      statements: matchable.count, blind: false),
            filler: filler.keys.sorted().map { i in
                Report.Filler(evidence: evidence(i), reason: filler[i]!.rawValue)
            })
    }

    func coverage(of items: [String]) -> [[Report.Evidence]] {
        guard !items.isEmpty else { return [] }
        let prepared = model.prepare(SimilarityInput(statements: statements.map(\.text),
                                                     answerOfStatement: statements.map(\.answerIndex),
                                                     rubricItems: items, prompt: input.prompt))
        let matchableSet = Set(matchable)
        return items.indices.map { item in
            prepared.rubricCandidates(item: item).filter(matchableSet.contains).sorted()
                .filter { prepared.rubricScore(item: item, statement: $0) >= model.rubricThreshold }
                .map(evidence)
        }
    }

    static let labelSample = 64

    /// Groups holding the same words twice in one answer (a repeated sentence or paragraph) are one key point:
    /// an answer that says a thing again still makes one point.
    static func joiningRepeats(_ groups: [[Int]], statements: [Statement]) -> [[Int]] {
        var parent = Array(groups.indices)
        func find(_ x: Int) -> Int {
            var r = x
            while parent[r] != r { r = parent[r] }
            var node = x
            while parent[node] != r { let next = parent[node]; parent[node] = r; node = next }
            return r
        }
        var first: [String: Int] = [:]
        for (g, group) in groups.enumerated() {
            for s in group {
                let key = "\(statements[s].answerIndex)\u{1}" + Labels.plain(statements[s].text).lowercased()
                if let other = first[key] {
                    let (a, b) = (find(other), find(g))
                    if a != b { parent[max(a, b)] = min(a, b) }
                } else {
                    first[key] = g
                }
            }
        }
        var merged: [Int: [Int]] = [:]
        for g in groups.indices { merged[find(g), default: []] += groups[g] }
        return merged.values.map { $0.sorted() }.sorted { $0[0] < $1[0] }
    }

    var multiSample: Bool { samplesOfPanelist.contains { $0 > 1 } || (input.samplesPerPanelist ?? 1) > 1 }

    /// Per supporting panelist, the share of its samples with a statement in the group (repeat sampling only).
    func stability(_ group: [Int]) -> [String: Double]? {
        guard multiSample else { return nil }
        var answers: [Int: Set<Int>] = [:]
        for s in group {
            let a = statements[s].answerIndex
            answers[panelistOfAnswer[a], default: []].insert(a)
        }
        return Dictionary(uniqueKeysWithValues: answers.map { p, set in
            (panelists[p].id, ConvergenceIndex.rounded(
                Double(set.count) / Double(max(samplesOfPanelist[p], input.samplesPerPanelist ?? 0))))
        })
    }

    /// Distinct panelists (indices) behind some statements, in panel order.
    func support(_ group: [Int]) -> [Int] {
        Set(group.map { panelistOfAnswer[statements[$0].answerIndex] }).sorted()
    }

    func evidence(_ s: Int) -> Report.Evidence {
        let statement = statements[s]
        return Report.Evidence(panelist: panelists[panelistOfAnswer[statement.answerIndex]].id,
                               quote: statement.text, start: statement.start, end: statement.end,
                               sample: multiSample ? sampleOfAnswer[statement.answerIndex] : nil)
    }

    /// The label of a cluster: the statement most similar to the rest (the medoid), or the lead-in or heading
    /// that names the point of the medoid's block when the cluster holds it, as plain text without discourse
    /// words.
    func label(_ group: [Int], _ prepared: any PreparedSimilarity, rank: [Int]) -> String {
        // Candidates in canonical order, and sums in sorted order: the label does not depend on answer order. A
        // very large group (a long answer that repeats itself) is judged on its first `labelSample` statements.
        let candidates = Array(group.sorted { rank[$0] < rank[$1] }.prefix(Run.labelSample))
        var best = candidates[0]
        if group.count > 1 {
            // The shortest of the statements nearly as central as the medoid (an editor's bullet is short).
            let scores = candidates.map { s in candidates.filter { $0 != s }.map { prepared.similarity(s, $0) }.sorted().reduce(0, +) }
            let top = scores.max() ?? 0
            var bestLength = Int.max
            // A statement that opens by pointing back ("Their light keeps you alert") names the point only with
            // the sentence before it: it labels the group only when no other statement can.
            for allowReference in [false, true] where bestLength == Int.max {
                for (s, score) in zip(candidates, scores) where score >= 0.8 * top - 1e-9 {
                    if !allowReference && Labels.opensWithReference(statements[s].text) { continue }
                    let length = Tokenizer.tokens(statements[s].text).count
                    if length >= 2 || candidates.count == 1, length < bestLength { best = s; bestLength = length }
                }
            }
            if bestLength == Int.max { best = candidates[scores.firstIndex(of: top) ?? 0] }
        }
        let medoid = statements[best]
        if !medoid.isLeadIn, let lead = candidates.first(where: { s in
            statements[s].isLeadIn && pointBlock[s] == pointBlock[best] && Tokenizer.tokens(statements[s].text).count >= 2
        }) {
            best = lead
        }
        return Labels.plain(Labels.withoutDiscourseOpener(statements[best].text))
    }

    func terms(_ mentions: [TermMention]) -> [Report.Term] {
        struct Entry { var first: Int; var mentions: [TermMention] }
        var entries: [String: Entry] = [:]
        for (n, mention) in mentions.enumerated() {
            let key = "\(mention.kind == .quantity ? "q" : "n"):\(mention.key)"
            entries[key, default: Entry(first: n, mentions: [])].mentions.append(mention)
        }
        var terms: [(term: Report.Term, first: Int)] = []
        for entry in entries.values {
            let kinds = Set(entry.mentions.map(\.kind))
            let kind: Report.Term.Kind = kinds.contains(.quantity) ? .quantity : kinds.contains(.title) ? .title : .name
            var firstByPanelist: [Int: TermMention] = [:]
            for m in entry.mentions where firstByPanelist[panelistOfAnswer[m.answerIndex]] == nil {
                firstByPanelist[panelistOfAnswer[m.answerIndex]] = m
            }
            let supporters = firstByPanelist.keys.sorted()
            // The most frequent surface form names the term; ties go to the earliest.
            var counts: [String: Int] = [:]
            for m in entry.mentions { counts[m.text, default: 0] += 1 }
            let text = entry.mentions.map(\.text).max { counts[$0]! < counts[$1]! }!
            let display = entry.mentions.first { counts[$0.text]! == counts[text]! }!.text
            terms.append((Report.Term(
                text: display, kind: kind, support: supporters.map { panelists[$0].id },
                evidence: supporters.map { p in
                    let m = firstByPanelist[p]!
                    return Report.Evidence(panelist: panelists[p].id, quote: m.text, start: m.start, end: m.end,
                                           sample: multiSample ? sampleOfAnswer[m.answerIndex] : nil)
                }), entry.first))
        }
        terms.sort { lhs, rhs in
            lhs.term.support.count != rhs.term.support.count
                ? lhs.term.support.count > rhs.term.support.count : lhs.first < rhs.first
        }
        return terms.map(\.term)
    }
}

/// Human-readable labels from statement text.
enum Labels {
    /// The scalars of `text` without HTML tags (`<div class="x">`) and with `[text](target)` read as `text`.
    static func withoutLinksAndTags(_ text: String) -> [Unicode.Scalar] {
        let s = Array(text.unicodeScalars)
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(s.count)
        var i = 0
        while i < s.count {
            if s[i] == "<", i + 1 < s.count, s[i + 1].properties.isAlphabetic || s[i + 1] == "/",
               let close = s[(i + 1)...].prefix(200).firstIndex(of: ">") {
                i = close + 1
                continue
            }
            if s[i] == "]", i + 1 < s.count, s[i + 1] == "(", let close = s[(i + 2)...].prefix(500).firstIndex(of: ")") {
                i = close + 1
                continue
            }
            if s[i] == "[", let close = s[(i + 1)...].prefix(500).firstIndex(of: "]"), close + 1 < s.count,
               s[close + 1] == "(" {
                i += 1  // the link text stays; its brackets and target go
                continue
            }
            out.append(s[i])
            i += 1
        }
        return out
    }

    static let maxLength = 120

    /// Openers that link a statement to its neighbours without being part of its idea.
    static let discourseOpeners: [String] = [
        "remember that", "remember", "additionally", "also", "in addition", "moreover", "furthermore", "finally",
        "lastly", "first", "firstly", "second", "secondly", "third", "thirdly", "next", "then", "again", "most importantly",
        "importantly", "above all", "overall", "ultimately", "in short", "in summary", "in conclusion", "besides",
        "alongside", "coupled with", "along with", "together with", "as well as", "on top of that", "plus", "and",
        "but", "so", "however", "of course", "for example", "for instance", "e.g.", "similarly", "likewise", "beyond coding",
        "beyond pure coding skills", "beyond that", "this involves", "this means", "note that", "keep in mind that",
        // "Instead, focus on ..." (with its comma: "Instead of ..." says what instead of what).
        "instead,",
    ]

    /// Words that open a statement pointing back at an earlier one (anaphora): "it", "their", "this", ...
    static let references: Set<String> = [
        "it", "its", "it's", "this", "that", "these", "those", "they", "their", "them", "theirs", "he", "she", "his",
        "her", "such", "which",
    ]

    /// `text` (after any discourse opener) opens with a word that refers back (`references`): "Their light keeps
    /// you alert", "This makes it safer". Letters compared lowercased; markup and punctuation before the word skipped.
    static func opensWithReference(_ text: String) -> Bool {
        let body = withoutDiscourseOpener(text).drop { !$0.isLetter }
        let word = body.prefix { $0.isLetter || $0 == "'" || $0 == "\u{2019}" }
        return references.contains(word.lowercased().replacingOccurrences(of: "\u{2019}", with: "'"))
    }

    /// `text` without a leading discourse word or phrase ("Alongside proficiency in CI/CD" reads "proficiency in
    /// CI/CD"; "Remember, ..." reads "..."), unless nothing would be left.
    static func withoutDiscourseOpener(_ text: String) -> String {
        var current = Substring(text)
        for _ in 0..<2 {
            let lower = current.lowercased()
            guard let opener = discourseOpeners.first(where: { lower.hasPrefix($0) }) else { break }
            let rest = current.dropFirst(opener.count)
            guard let next = rest.first, next == "," || next == " " || next == ":" else { break }
            let trimmed = rest.drop { $0 == "," || $0 == " " || $0 == ":" }
            guard Tokenizer.tokens(String(trimmed)).count >= 2 else { break }
            current = trimmed
        }
        return String(current)
    }

    /// Markdown markup removed (emphasis, code marks, HTML tags, link targets: `[text](url)` reads `text`),
    /// white space folded, first letter capitalised, shortened at a word boundary.
    static func plain(_ text: String) -> String {
        var scalars = String.UnicodeScalarView()
        var lastWasSpace = false
        for s in withoutLinksAndTags(text) where s != "*" && s != "`" && s.properties.generalCategory != .format {
            let space = s.properties.isWhitespace
            if space && lastWasSpace { continue }
            scalars.append(space ? " " : s)
            lastWasSpace = space
        }
        var label = String(scalars).trimmingWhitespace
        if let first = label.first, first.isLowercase { label = first.uppercased() + label.dropFirst() }
        if label.count > maxLength {
            let cut = label.prefix(maxLength)
            let end = cut.lastIndex(of: " ") ?? cut.endIndex
            label = String(cut[..<end]) + "…"
        }
        return label
    }
}
