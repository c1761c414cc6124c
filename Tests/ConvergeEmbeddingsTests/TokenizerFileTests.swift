@testable import ConvergeEmbeddings
import Foundation
import Testing

/// `VocabularyScanner` reads `model.vocab` of a tokenizer.json as `JSONSerialization` does, and gives up
/// (nil, so the tokenizer reads the file the slow way) on anything it does not accept.
struct TokenizerFileTests {
    static func reference(_ json: String) throws -> [String: Int32] {
        let root = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let model = try #require(root["model"] as? [String: Any])
        return try #require(model["vocab"] as? [String: NSNumber]).mapValues(\.int32Value)
    }

    @Test func escapesAndSkippedValuesReadAsJSONSerializationReadsThem() throws {
        let json = #"""
            { "version": "1.0", "added_tokens": [{"id": 0, "content": "[PAD]", "special": true, "x": null},
              [1.5e-3, -2, 0.25E+2, [], {}]], "normalizer": {"type": "BertNormalizer", "strip_accents": null},
              "model" : { "type": "WordPiece", "unk_token": "[UNK]", "weights": {"vocab": 7},
                "vocab" : { "[PAD]": 0, "[UNK]" : 1, "a\"b": 2, "back\\slash": 3, "\u00e9t\u00E9": 4,
                  "\ud83d\ude00": 5, "tab\tnew\nline\/": 6, "naïve": 7, "##s": 2147483647, "": 9 },
                "continuing_subword_prefix": "##" } }
            """#
        let scanned = try #require(VocabularyScanner.vocabulary(in: Data(json.utf8)))
        #expect(scanned == (try Self.reference(json)))
        #expect(scanned["a\"b"] == 2 && scanned["\u{1F600}"] == 5 && scanned["été"] == 4 && scanned["naïve"] == 7)
    }

    @Test func refusesWhatItCannotRead() {
        for json in [
            #"{"model": {"vocab": {"a": 1.5}}}"#,            // not an integer id
            #"{"model": {"vocab": {"a": 4294967296}}}"#,     // beyond Int32
            #"{"model": {"vocab": {"a": 1}}"#,               // unclosed
            #"{"model": {"vocab": {"a": 1}}} trailing"#,     // not one value
            #"{"model": {"vocab": {"\ud83d": 1}}}"#,         // lone surrogate
            #"{"model": {"type": "WordPiece"}}"#,            // no vocabulary
            #"{"model": {"vocab": {"a": 1, "b": tru}}}"#,    // bad literal
        ] {
            #expect(VocabularyScanner.vocabulary(in: Data(json.utf8)) == nil, "\(json)")
        }
    }

    /// Found by the fuzz target `tokenizer` (Fuzz/corpus/tokenizer/crash-deep-nesting.json): 9 KB of `[` in a
    /// skipped value made the scanner recurse until the stack overflowed. Deeper than `maxDepth` is refused now
    /// (nil: the slow path decides), and a WordPiece tokenizer.json of that shape is a damaged file, not a crash.
    @Test func deepNestingIsRefusedNotAStackOverflow() throws {
        let deep = #"{"vek\\s":"# + String(repeating: "[", count: 9_000) + #"], "model": {"vocab": {"a": 1}}}"#
        #expect(VocabularyScanner.vocabulary(in: Data(deep.utf8)) == nil)
        let nested = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        let json = #"{"x": \#(nested), "model": {"vocab": {"a": 1}}}"#
        #expect(VocabularyScanner.vocabulary(in: Data(json.utf8)) == ["a": 1])
        let levels = VocabularyScanner.maxDepth + 1
        let tooDeep = String(repeating: "[", count: levels) + String(repeating: "]", count: levels)
        #expect(VocabularyScanner.vocabulary(in: Data(#"{"x": \#(tooDeep), "model": {"vocab": {"a": 1}}}"#.utf8)) == nil)

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("converge-deep-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("tokenizer.json").path
        let file = #"{"model": {"type": "WordPiece", "vocab": {"[UNK]": 0}}, "x": "# + String(repeating: "[", count: 9_000) + "}"
        try Data(file.utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: EmbeddingModelError.self) { try WordPieceTokenizer(path: path) }
    }

    @Test(.enabled(if: InstalledModel.available, InstalledModel.skipReason))
    func theInstalledVocabularyEqualsJSONSerialization() throws {
        let directory = try #require(InstalledModel.directory, "all-MiniLM-L6-v2 must be installed")
        let path = directory + "/tokenizer.json"
        let json = try String(contentsOfFile: path, encoding: .utf8)
        let tokenizer = try WordPieceTokenizer(path: path)
        #expect(tokenizer.vocabulary.count == 30_522)
        #expect(tokenizer.vocabulary == (try Self.reference(json)))
    }
}
