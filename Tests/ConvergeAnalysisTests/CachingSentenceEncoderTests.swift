import ConvergeAnalysis
import ConvergeCore
import Foundation
import Synchronization
import Testing

/// A real (if crude) sentence encoder: hashed bag of lower-cased words, L2-normalised; it records every text it
/// is asked to encode.
final class HashingEncoder: SentenceEncoder {
    let modelName = "hashing-64"
    let dimension = 64
    private let log = Mutex<[[String]]>([])

    var calls: [[String]] { log.withLock { $0 } }
    private let contextLog = Mutex<[String?]>([])
    /// The context of each call (`nil` for `encode(_:)`).
    var contexts: [String?] { contextLog.withLock { $0 } }

    /// Reads the context as one more word of every text, so that a context changes the vectors.
    func encode(_ texts: [String], context: String?) -> [[Float]] {
        guard let context else { return encode(texts) }
        contextLog.withLock { $0.append(context) }
        return encode(texts.map { "\(context) \($0)" })
    }

    func encode(_ texts: [String]) -> [[Float]] {
        log.withLock { $0.append(texts) }
        return texts.map { text in
            var v = [Float](repeating: 0, count: dimension)
            for word in text.lowercased().split(whereSeparator: { !$0.isLetter && !$0.isNumber }) {
                var h: UInt32 = 2_166_136_261
                for byte in word.utf8 { h = (h ^ UInt32(byte)) &* 16_777_619 }
                v[Int(h % UInt32(dimension))] += 1
            }
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return norm == 0 ? v : v.map { $0 / norm }
        }
    }
}

@Suite struct CachingSentenceEncoderTests {
    static func key(_ text: String) -> String { "k:" + text }

    /// A text read in a context is kept apart from the same text alone or in another context, and the base
    /// encoder gets the context.
    @Test func aContextIsPartOfTheKey() {
        let base = HashingEncoder()
        let cache = CachingSentenceEncoder(base: base, key: Self.key)
        let alone = cache.encode(["Use a sharp knife."])[0]
        let inPrompt = cache.encode(["Use a sharp knife."], context: "dicing")[0]
        let otherPrompt = cache.encode(["Use a sharp knife."], context: "knives")[0]
        #expect(alone != inPrompt && inPrompt != otherPrompt)
        #expect(cache.encodeCalls == 3)
        #expect(base.contexts == ["dicing", "knives"])
        #expect(cache.encode(["Use a sharp knife."], context: "dicing")[0] == inPrompt)
        #expect(cache.encodeCalls == 3)
        #expect(Set(cache.vectors.keys) == ["k:Use a sharp knife.", "k:dicing\u{1F}Use a sharp knife.",
                                            "k:knives\u{1F}Use a sharp knife."])
    }

    @Test func onlyMissesReachTheBaseEncoderOnceEachInOneCall() {
        let base = HashingEncoder()
        let known = base.encode(["Use a sharp knife."])[0]
        let cache = CachingSentenceEncoder(base: base, known: ["k:Use a sharp knife.": known, "k:wrong size": [1, 2],
                                                               "k:not finite": [Float](repeating: .nan, count: 64)],
                                           key: Self.key)
        let texts = ["Use a sharp knife.", "Curl your fingers.", "wrong size", "Curl your fingers.", "not finite"]
        let vectors = cache.encode(texts)
        #expect(base.calls.last == ["Curl your fingers.", "wrong size", "not finite"],
                "a vector of the wrong length, or not finite, is not used")
        #expect(cache.encodedCount == 3)
        #expect(cache.encodeCalls == 1)
        #expect(vectors == base.encode(texts))
        #expect(cache.encode(texts) == vectors)
        #expect(cache.encodeCalls == 1, "everything is known now")
        #expect(cache.vectors.count == 4)
    }

    /// `Analyzer.encodedTexts(for:)` predicts what an analysis encodes, so a cache filled from it leaves nothing to
    /// encode; and the report read from the cache is the report.
    @Test(arguments: [false, true])
    func encodedTextsAreWhatTheAnalysisEncodes(withRubric: Bool) throws {
        var input = try SurveyFolder.load(paths: [Paths.example.path])
        if !withRubric { input.rubric = nil }
        let base = HashingEncoder()
        let plain = Analyzer(similarity: EmbeddingSimilarity(encoder: base)).analyze(input)
        let encoded = Set(base.calls.flatMap { $0 })
        let predicted = Analyzer.encodedTexts(for: input)
        #expect(Set(predicted) == encoded)
        #expect(predicted.count > 50)

        let vectors = base.encode(predicted)
        let known = Dictionary(zip(predicted.map(Self.key), vectors), uniquingKeysWith: { a, _ in a })
        let counting = HashingEncoder()
        let cache = CachingSentenceEncoder(base: counting, known: known, key: Self.key)
        let cached = Analyzer(similarity: EmbeddingSimilarity(encoder: cache)).analyze(input)
        #expect(counting.calls.isEmpty)
        #expect(cached == plain)
    }
}
