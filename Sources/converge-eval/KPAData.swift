import ConvergeAnalysis
import ConvergeEmbeddings
import Foundation

/// ArgKP (IBM Debater, Bar-Haim et al. 2020) as laid out in its readme: `arguments_SPLIT.csv`
/// (arg_id,argument,topic,stance), `key_points_SPLIT.csv` (key_point_id,key_point,topic,stance) and
/// `labels_SPLIT.csv` (arg_id,key_point_id,label).
struct KPAData {
    struct Text { var id: String; var text: String; var topic: String; var stance: String }
    var arguments: [Text]
    var keyPoints: [Text]
    /// (arg_id, key_point_id) → matches.
    var labels: [String: Bool]
    /// Topic-and-stance groups: argument indices and key point indices.
    var groups: [(arguments: [Int], keyPoints: [Int])]

    static func labelKey(_ arg: String, _ kp: String) -> String { arg + "\u{1F}" + kp }

    /// Splits `directory` holds: the SPLIT of every `arguments_SPLIT.csv`, sorted.
    static func splits(in directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasPrefix("arguments_") && $0.hasSuffix(".csv") }
            .map { String($0.dropFirst("arguments_".count).dropLast(".csv".count)) }.sorted()
    }

    /// Why `predictions` cannot be scored against this split (empty when it can): arguments or key points
    /// it names that the split does not have, key points of another topic or stance than their argument, and
    /// arguments of the split it leaves out (mAP over part of the arguments is not the track's mAP).
    func problems(with predictions: [String: [String: Double]]) -> [String] {
        let argumentIndex = Dictionary(arguments.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { a, _ in a })
        let keyPointIndex = Dictionary(keyPoints.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { a, _ in a })
        var problems: [String] = []
        for argument in predictions.keys.sorted() {
            guard let a = argumentIndex[argument] else { problems.append("unknown argument \(argument)"); continue }
            for keyPoint in predictions[argument]!.keys.sorted() {
                guard let k = keyPointIndex[keyPoint] else {
                    problems.append("unknown key point \(keyPoint) (for \(argument))")
                    continue
                }
                if (keyPoints[k].topic, keyPoints[k].stance) != (arguments[a].topic, arguments[a].stance) {
                    problems.append("key point \(keyPoint) is of another topic or stance than argument \(argument)")
                }
            }
        }
        let missing = arguments.map(\.id).filter { predictions[$0] == nil }
        if !missing.isEmpty {
            problems.append("covers \(arguments.count - missing.count) of \(arguments.count) arguments (missing "
                            + missing.prefix(3).joined(separator: ", ") + (missing.count > 3 ? ", ..." : "") + ")")
        }
        return problems
    }

    init(directory: String, split: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw EvalError("\(directory): no such folder "
                + "(expected an ArgKP folder with arguments_SPLIT.csv, key_points_SPLIT.csv, labels_SPLIT.csv)")
        }
        let splits = Self.splits(in: directory)
        guard splits.contains(split) else {
            let found = splits.isEmpty ? "no arguments_SPLIT.csv" : splits.joined(separator: ", ")
            throw EvalError("unknown split `\(split)`; \(directory) has " + found)
        }
        func rows(_ name: String, _ columns: [String]) throws -> [[String]] {
            let path = directory + "/\(name)_\(split).csv"
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                throw EvalError("\(path): cannot be read")
            }
            let table = CSV.parse(text)
            guard let header = table.first else { throw EvalError("\(path): empty") }
            let index = try columns.map { column in
                guard let i = header.firstIndex(of: column) else { throw EvalError("\(path): no column \(column)") }
                return i
            }
            return try table.dropFirst().enumerated().compactMap { n, row in
                if row == [""] { return nil }
                guard row.count == header.count else {
                    throw EvalError("\(path):\(n + 2): \(row.count) fields, expected \(header.count)")
                }
                return index.map { row[$0] }
            }
        }
        func text(_ row: [String]) -> Text { Text(id: row[0], text: row[1], topic: row[2], stance: row[3]) }
        arguments = try rows("arguments", ["arg_id", "argument", "topic", "stance"]).map(text)
        keyPoints = try rows("key_points", ["key_point_id", "key_point", "topic", "stance"]).map(text)
        var labels: [String: Bool] = [:]
        for row in try rows("labels", ["arg_id", "key_point_id", "label"]) {
            labels[Self.labelKey(row[0], row[1])] = row[2] == "1"
        }
        self.labels = labels
        var order: [String] = []
        var byKey: [String: (arguments: [Int], keyPoints: [Int])] = [:]
        for (i, a) in arguments.enumerated() {
            let key = a.topic + "\u{1F}" + a.stance
            if byKey[key] == nil { order.append(key); byKey[key] = ([], []) }
            byKey[key]!.arguments.append(i)
        }
        for (i, k) in keyPoints.enumerated() { byKey[k.topic + "\u{1F}" + k.stance]?.keyPoints.append(i) }
        groups = order.map { byKey[$0]! }
    }

    /// The same data with only the topic-and-stance groups of the last `count` topics (in order of first
    /// appearance in the arguments file): the train topics `scripts/train-matcher-adapter.py` holds out.
    func lastTopics(_ count: Int) -> KPAData {
        var topics: [String] = []
        for a in arguments where !topics.contains(a.topic) { topics.append(a.topic) }
        let kept = Set(topics.suffix(count))
        var copy = self
        copy.groups = groups.filter { kept.contains(arguments[$0.arguments[0]].topic) }
        return copy
    }
}

struct EvalError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// RFC 4180 CSV: quoted fields with doubled quotes, commas and newlines inside quotes.
enum CSV {
    static func parse(_ text: String) -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var field = ""
        var quoted = false
        var iterator = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = nil
        func next() -> Unicode.Scalar? {
            if let p = pending { pending = nil; return p }
            return iterator.next()
        }
        while let c = next() {
            if quoted {
                if c == "\"" {
                    if let n = next() {
                        if n == "\"" { field.unicodeScalars.append("\"") } else { quoted = false; pending = n }
                    } else { quoted = false }
                } else { field.unicodeScalars.append(c) }
            } else if c == "\"" && field.isEmpty {
                quoted = true
            } else if c == "," {
                row.append(field); field = ""
            } else if c == "\n" || c == "\r" {
                if c == "\r", let n = next(), n != "\n" { pending = n }
                row.append(field); field = ""
                rows.append(row); row = []
            } else {
                field.unicodeScalars.append(c)
            }
        }
        if !field.isEmpty || !row.isEmpty { row.append(field); rows.append(row) }
        return rows
    }
}

/// Evidence for every (argument, key point) pair of each topic-and-stance group: embeddings of all texts and a
/// TF-IDF space per group (arguments as statements, key points as items, the topic as prompt).
struct KPAEvidence {
    var data: KPAData
    var argumentVectors: [[Float]]
    var keyPointVectors: [[Float]]
    /// For each group: evidence[a][k] for its arguments × key points (positions in the group).
    var evidence: [[[MatchEvidence]]]

    /// - Parameter topicContext: encode each argument and key point read in its topic
    ///   (`SentenceEncoder.encode(_:context:)`, one call per topic).
    init(data: KPAData, encoder: (any SentenceEncoder)?, topicContext: Bool = false) {
        self.data = data
        let argumentVectors: [[Float]], keyPointVectors: [[Float]]
        if let encoder, topicContext {
            func encodeByTopic(_ texts: [KPAData.Text]) -> [[Float]] {
                var vectors = [[Float]](repeating: [], count: texts.count)
                var byTopic: [String: [Int]] = [:]
                for (i, t) in texts.enumerated() { byTopic[t.topic, default: []].append(i) }
                for (topic, members) in byTopic.sorted(by: { $0.key < $1.key }) {
                    for (i, v) in zip(members, encoder.encode(members.map { texts[$0].text }, context: topic)) { vectors[i] = v }
                }
                return vectors
            }
            argumentVectors = encodeByTopic(data.arguments)
            keyPointVectors = encodeByTopic(data.keyPoints)
        } else if let encoder {
            argumentVectors = encoder.encode(data.arguments.map(\.text))
            keyPointVectors = encoder.encode(data.keyPoints.map(\.text))
        } else {
            argumentVectors = data.arguments.map { _ in [0] }
            keyPointVectors = data.keyPoints.map { _ in [0] }
        }
        self.argumentVectors = argumentVectors
        self.keyPointVectors = keyPointVectors
        var evidence: [[[MatchEvidence]]] = []
        for group in data.groups {
            let space = LexicalSpace(statements: group.arguments.map { data.arguments[$0].text },
                                     rubricItems: group.keyPoints.map { data.keyPoints[$0].text },
                                     prompt: data.arguments[group.arguments[0]].topic)
            evidence.append(group.arguments.indices.map { a in
                let cosines = group.keyPoints.map { Double(dot(argumentVectors[group.arguments[a]], keyPointVectors[$0])) }
                let lexical = group.keyPoints.indices.map { LexicalSpace.cosine(space.statements[a], space.rubricItems[$0]) }
                let meanCosine = cosines.reduce(0, +) / Double(max(cosines.count, 1))
                let meanLexical = lexical.reduce(0, +) / Double(max(lexical.count, 1))
                return group.keyPoints.indices.map { k in
                    MatchEvidence(cosine: cosines[k], lexicalCosine: lexical[k],
                                  coverage: LexicalSpace.coverage(of: space.rubricItems[k], by: space.statements[a]),
                                  meanCosine: meanCosine, meanLexicalCosine: meanLexical)
                }
            })
        }
        self.evidence = evidence
    }

    /// Scores `{arg_id: {key_point_id: score}}` for a scoring function of the evidence.
    func predictions(_ score: (MatchEvidence) -> Double) -> [String: [String: Double]] {
        var result: [String: [String: Double]] = [:]
        for (g, group) in data.groups.enumerated() {
            for (a, arg) in group.arguments.enumerated() {
                var scores: [String: Double] = [:]
                for (k, kp) in group.keyPoints.enumerated() { scores[data.keyPoints[kp].id] = score(evidence[g][a][k]) }
                result[data.arguments[arg].id] = scores
            }
        }
        return result
    }

    /// mAP of predictions against the labels (`KeyPointMatchingMetric`).
    /// mAP strict and relaxed with the current metric (what `kpa-train` optimises).
    static func score(_ predictions: [String: [String: Double]], data: KPAData) -> (strict: Double, relaxed: Double) {
        KeyPointMatchingMetric.meanAveragePrecision(choices(predictions, data: data))
    }

    /// Both versions of the track 1 metric (current and leaderboard), strict and relaxed.
    static func scores(_ predictions: [String: [String: Double]], data: KPAData) -> KeyPointMatchingMetric.Scores {
        KeyPointMatchingMetric.scores(choices(predictions, data: data))
    }

    /// Each argument's best key point by the predictions, grouped by topic and stance.
    static func choices(_ predictions: [String: [String: Double]], data: KPAData) -> [[KeyPointMatchingMetric.Choice]] {
        data.groups.map { group in
            group.arguments.map { a -> KeyPointMatchingMetric.Choice in
                let id = data.arguments[a].id
                guard let scores = predictions[id], let best = scores.max(by: { ($0.value, $1.key) < ($1.value, $0.key) }) else {
                    return .init(score: -Double.infinity, label: false)
                }
                return .init(score: best.value, label: data.labels[KPAData.labelKey(id, best.key)])
            }
        }
    }
}

/// The ways `kpa-predict` can score a pair.
enum KPASimilarity: String, CaseIterable {
    case lexical, embedding, average, hybrid

    var needsEncoder: Bool { self != .lexical }

    func scorer(matcher: KeyPointMatcher) -> (MatchEvidence) -> Double {
        switch self {
        case .lexical: return { $0.lexicalCosine }
        case .embedding: return { $0.cosine }
        case .average: return { ($0.cosine + $0.lexicalCosine) / 2 }
        case .hybrid: return { matcher.score($0) }
        }
    }
}
