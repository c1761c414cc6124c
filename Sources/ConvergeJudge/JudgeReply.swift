import ConvergeCore
import Foundation

/// A judge's reply as the contract in `schema/judge-reply-v1.json` asks for it, read leniently: every list is
/// optional, a blind spot may be a bare string, a synthesis sentence may cite no key point. Panelists are the
/// blind labels the judge was shown (`AI 1`, ...); nothing here is verified yet (`JudgeVerifier` does that).
public struct JudgeReply: Sendable, Equatable {
    /// Words the judge says a panelist wrote.
    public struct Citation: Sendable, Equatable {
        public var panelist: String
        public var quote: String
    }

    public struct Point: Sendable, Equatable {
        public var text: String
        public var supporters: [Citation]
    }

    public struct Side: Sendable, Equatable {
        public var panelist: String
        public var stance: String
        public var quote: String
    }

    public struct Contradiction: Sendable, Equatable {
        public var topic: String
        public var sides: [Side]
    }

    public struct Sentence: Sendable, Equatable {
        public var text: String
        public var keyPoints: [String]
    }

    /// An item of the reply that could not be read: which list, its text as far as it goes, what is wrong.
    public struct Malformed: Sendable, Equatable {
        public var kind: Report.JudgeDroppedClaim.Kind
        public var text: String
        public var reason: String
    }

    public var consensus: [Point] = []
    public var unique: [Point] = []
    public var contradictions: [Contradiction] = []
    public var blindSpots: [String] = []
    public var synthesis: [Sentence] = []
    public var malformed: [Malformed] = []

    public init(consensus: [Point] = [], unique: [Point] = [], contradictions: [Contradiction] = [],
                blindSpots: [String] = [], synthesis: [Sentence] = []) {
        self.consensus = consensus
        self.unique = unique
        self.contradictions = contradictions
        self.blindSpots = blindSpots
        self.synthesis = synthesis
    }

    /// Why a reply is not the contract's JSON; `description` is what the repair request tells the judge.
    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// Reads a reply: the JSON object in `text` (a Markdown code fence or words around it are ignored).
    /// - Throws: `ParseError` when there is no JSON object, or it does not parse, or it holds none of the
    ///   contract's lists.
    public static func parse(_ text: String) throws(ParseError) -> JudgeReply {
        guard let open = text.firstIndex(of: "{"), let close = text.lastIndex(of: "}"), open < close else {
            throw ParseError(description: "the reply holds no JSON object")
        }
        let json = String(text[open...close])
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(json.utf8))
        } catch {
            throw ParseError(description: "the reply's JSON does not parse (\(Self.reason(error)))")
        }
        guard let root = object as? [String: Any] else { throw ParseError(description: "the reply is not a JSON object") }
        let known = ["consensus", "unique", "contradictions", "blindSpots", "synthesis"]
        guard known.contains(where: { root[$0] != nil }) else {
            throw ParseError(description: "the reply has none of the fields \(known.joined(separator: ", "))")
        }
        var reply = JudgeReply()
        reply.consensus = reply.points(root["consensus"], kind: .consensus)
        reply.unique = reply.points(root["unique"], kind: .unique)
        for (n, item) in list(root["contradictions"]).enumerated() {
            guard let o = item as? [String: Any], let topic = string(o["topic"]) else {
                reply.malformed.append(.init(kind: .contradiction, text: "contradictions[\(n)]", reason: "no topic"))
                continue
            }
            let sides = list(o["sides"]).compactMap { side -> Side? in
                guard let s = side as? [String: Any], let panelist = string(s["panelist"]) else { return nil }
                return Side(panelist: panelist, stance: string(s["stance"]) ?? "", quote: string(s["quote"]) ?? "")
            }
            reply.contradictions.append(Contradiction(topic: topic, sides: sides))
        }
        for (n, item) in list(root["blindSpots"]).enumerated() {
            if let text = string(item) ?? (item as? [String: Any]).flatMap({ string($0["point"]) ?? string($0["text"]) }) {
                reply.blindSpots.append(text)
            } else {
                reply.malformed.append(.init(kind: .blindSpot, text: "blindSpots[\(n)]", reason: "no point"))
            }
        }
        for (n, item) in list(root["synthesis"]).enumerated() {
            if let text = string(item) {
                reply.synthesis.append(Sentence(text: text, keyPoints: []))
            } else if let o = item as? [String: Any], let text = string(o["sentence"]) ?? string(o["text"]) {
                let cited = list(o["keyPoints"]).compactMap(string)
                reply.synthesis.append(Sentence(text: text, keyPoints: cited))
            } else {
                reply.malformed.append(.init(kind: .synthesis, text: "synthesis[\(n)]", reason: "no sentence"))
            }
        }
        return reply
    }

    private mutating func points(_ value: Any?, kind: Report.JudgeDroppedClaim.Kind) -> [Point] {
        var out: [Point] = []
        for (n, item) in Self.list(value).enumerated() {
            guard let o = item as? [String: Any], let text = Self.string(o["point"]) ?? Self.string(o["text"]) else {
                malformed.append(.init(kind: kind, text: "\(kind.rawValue)[\(n)]", reason: "no point"))
                continue
            }
            let supporters = Self.list(o["supporters"]).compactMap { s -> Citation? in
                guard let c = s as? [String: Any], let panelist = Self.string(c["panelist"]) else { return nil }
                return Citation(panelist: panelist, quote: Self.string(c["quote"]) ?? "")
            }
            out.append(Point(text: text, supporters: supporters))
        }
        return out
    }

    static func list(_ value: Any?) -> [Any] { value as? [Any] ?? [] }

    static func string(_ value: Any?) -> String? {
        guard let s = value as? String else { return nil }
        let trimmed = s.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? nil : trimmed
    }

    static func reason(_ error: any Error) -> String {
        let ns = error as NSError
        return (ns.userInfo[NSDebugDescriptionErrorKey] as? String) ?? ns.localizedDescription
    }
}
