import ConvergeCore
import Foundation

/// Reads what `converge-eval consolidation` scores: a gold folder's `gold.json`, report JSON files, and the
/// in-memory `Report` of an analysis. Every problem is an `EvalError` naming the file and the field.
enum ConsolidationFiles {
    /// The gold of `path`.
    ///
    /// - Throws: `EvalError` when the file is missing or unreadable, is not JSON, lacks a field the scorer
    ///   needs (`keyPoints[3].mentions[0].quote: missing`), or repeats a key point id.
    static func gold(_ path: String) throws -> ConsolidationGold {
        let root = try JSONField.read(path, what: "a consolidation gold (gold.json)")
        var seen: [String: Int] = [:]
        var points: [ConsolidationGold.Point] = []
        for (i, point) in try root["keyPoints"].list().enumerated() {
            let id = try point["id"].string()
            if let first = seen[id] {
                throw point["id"].error("`\(id)` is already the id of keyPoints[\(first)]")
            }
            seen[id] = i
            let mentions = try point["mentions"].list().map { mention in
                ConsolidationGold.Mention(panelist: try mention["panelist"].string(), quote: try mention["quote"].string())
            }
            points.append(ConsolidationGold.Point(id: id, label: try point["label"].optionalString() ?? "",
                                                  mentions: mentions, category: try point["category"].optionalString()))
        }
        return ConsolidationGold(points: points)
    }

    /// The gold of `path` located in `answers`; `EvalError` naming the mention whose quote is not found.
    static func locate(_ gold: ConsolidationGold, file path: String, answers: [String: String]) throws -> LocatedGold {
        do {
            return try LocatedGold(gold, answers: answers)
        } catch {
            throw EvalError("\(path): \(error.field): \(error.message)")
        }
    }

    /// The key points of the report JSON at `path`; a gold file's key points become report key points whose
    /// evidence is each mention at its quote's first occurrence in `answers` (offset -1 when not found, as the
    /// script does).
    ///
    /// - Throws: `EvalError` when the file is missing, not JSON, or a field has the wrong type (a gold needs
    ///   `label` on every key point, and its panelists need answers).
    static func reportKeyPoints(_ path: String, answers: [String: String]) throws -> [ScoredKeyPoint] {
        let root = try JSONField.read(path, what: "report JSON")
        let keyPoints = try root["keyPoints"].optionalList() ?? []
        guard let first = keyPoints.first, first["mentions"].isPresent else {
            return try keyPoints.map { point in
                ScoredKeyPoint(
                    label: try point["label"].optionalString() ?? "",
                    support: try (point["support"].optionalList() ?? []).map { try $0.string() },
                    evidence: try (point["evidence"].optionalList() ?? []).map { evidence in
                        ScoredEvidence(panelist: try evidence["panelist"].string(), quote: try evidence["quote"].string(),
                                       start: try evidence["start"].int(), end: try evidence["end"].int())
                    })
            }
        }
        let scalars = answers.mapValues { Array($0.unicodeScalars) }
        return try keyPoints.map { point in
            let label = try point["label"].string()
            var supporters = Set<String>()
            let evidence = try point["mentions"].list().map { mention in
                let panelist = try mention["panelist"].string()
                guard let text = scalars[panelist] else { throw mention["panelist"].error("`\(panelist)` has no answer") }
                let quote = try mention["quote"].string()
                let needle = Array(quote.unicodeScalars)
                let start = PythonText.find(needle, in: text) ?? -1
                supporters.insert(panelist)
                return ScoredEvidence(panelist: panelist, quote: quote, start: start, end: start + needle.count)
            }
            let support = supporters.sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }
            return ScoredKeyPoint(label: label, support: support, evidence: evidence)
        }
    }

    /// The key points of an analysis, as its report JSON would give them.
    static func reportKeyPoints(_ report: Report) -> [ScoredKeyPoint] {
        report.keyPoints.map { point in
            ScoredKeyPoint(label: point.label, support: point.support, evidence: point.evidence.map {
                ScoredEvidence(panelist: $0.panelist, quote: $0.quote, start: $0.start, end: $0.end)
            })
        }
    }

    /// Answer text by panelist id, from the answers of an analysis input.
    static func answers(_ input: AnalysisInput) -> [String: String] {
        Dictionary(input.answers.map { ($0.panelist.id, $0.text) }, uniquingKeysWith: { first, _ in first })
    }
}

/// A value of a JSON document being read, with its place (`keyPoints[2].evidence[0].start`) for messages.
///
/// Reading is as lenient as the script's `dict.get` where the script is (optional fields may be missing or
/// null) and strict where it indexes (`missing`, `expected a string, not the number 5`).
struct JSONField {
    /// The value (`String`, `NSNumber`, `[Any]`, `[String: Any]`, `NSNull`), nil when the field is missing.
    var value: Any?
    var path: String
    var file: String

    /// The document at `path`; `EvalError` when the file is missing, unreadable or not JSON.
    static func read(_ path: String, what: String) throws -> JSONField {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw EvalError(FileManager.default.fileExists(atPath: path)
                ? "\(path): cannot be read (\((error as NSError).localizedDescription))"
                : "\(path): no such file (expected \(what))")
        }
        do {
            return JSONField(value: try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]),
                             path: "", file: path)
        } catch {
            let reason = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String
            throw EvalError("\(path): not valid JSON" + (reason.map { " (\($0))" } ?? ""))
        }
    }

    func error(_ message: String) -> EvalError {
        EvalError("\(file): " + (path.isEmpty ? "" : "\(path): ") + message)
    }

    /// Present and not null.
    var isPresent: Bool { value != nil && !(value is NSNull) }

    /// The field `key` of this object (missing when this is not an object or has no such field).
    subscript(key: String) -> JSONField {
        JSONField(value: (value as? [String: Any])?[key], path: path.isEmpty ? key : "\(path).\(key)", file: file)
    }

    func list() throws -> [JSONField] {
        guard let items = try expect([Any].self, "a list") else { throw error("missing") }
        return items.enumerated().map { JSONField(value: $1, path: "\(path)[\($0)]", file: file) }
    }

    func optionalList() throws -> [JSONField]? { isPresent ? try list() : nil }

    func string() throws -> String {
        guard let text = try expect(String.self, "a string") else { throw error("missing") }
        return text
    }

    func optionalString() throws -> String? { isPresent ? try string() : nil }

    /// An integer: a JSON number without a fraction (`true` and `false` read as 1 and 0, as in Python).
    func int() throws -> Int {
        guard let value else { throw error("missing") }
        guard value is NSNumber, let int = value as? Int else {
            throw error("expected an integer, not \(Self.describe(value))")
        }
        return int
    }

    /// The value as `T`, nil when missing; `expected WHAT, not ...` when it is something else (null included).
    private func expect<T>(_ type: T.Type, _ what: String) throws -> T? {
        guard let value else { return nil }
        guard let typed = value as? T, !(value is NSNull) else { throw error("expected \(what), not \(Self.describe(value))") }
        return typed
    }

    private static func describe(_ value: Any) -> String {
        switch value {
        case is NSNull: return "null"
        case let number as NSNumber: return "the number \(number)"
        case is String: return "a string"
        case is [Any]: return "a list"
        case is [String: Any]: return "an object"
        default: return "\(type(of: value))"
        }
    }
}
