import ConvergeAnalysis
import Foundation
import Testing

/// `EnglishStemmer` against the reference, the Python `snowballstemmer` 2.2.0
/// (`Fixtures/stemmer-snowball-english.tsv`, written by
/// `scripts/make-stemmer-fixture.py`: `word<TAB>stem` lines).
struct EnglishStemmerTests {
    static func loadFixture() throws -> [(word: String, stem: String)] {
        let url = try #require(
            Bundle.module.url(
                forResource: "stemmer-snowball-english", withExtension: "tsv", subdirectory: "Fixtures"),
            "fixture Fixtures/stemmer-snowball-english.tsv is missing from the test bundle")
        let text = try String(contentsOf: url, encoding: .utf8)
        var pairs: [(word: String, stem: String)] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let fields = line.split(separator: "\t", maxSplits: 1, omittingEmptySubsequences: false)
            guard fields.count == 2 else {
                Issue.record("malformed fixture line: \(line.debugDescription)")
                continue
            }
            pairs.append((String(fields[0]), String(fields[1])))
        }
        return pairs
    }

    @Test func matchesSnowballReferenceOnFixture() throws {
        let pairs = try Self.loadFixture()
        #expect(pairs.count > 10_000, "fixture unexpectedly small: \(pairs.count) words")
        let stemmer = EnglishStemmer()
        var mismatches: [String] = []
        var mismatchCount = 0
        for (word, expected) in pairs {
            let got = stemmer.stem(word)
            // Compare scalar by scalar, as the reference compares code points.
            if !got.unicodeScalars.elementsEqual(expected.unicodeScalars) {
                mismatchCount += 1
                if mismatches.count < 20 {
                    mismatches.append("\(word) -> \(got) (reference: \(expected))")
                }
            }
        }
        let report = mismatches.joined(separator: "\n")
        #expect(
            mismatchCount == 0,
            "\(mismatchCount) of \(pairs.count) words differ from snowballstemmer 2.2.0; first \(mismatches.count):\n\(report)")
    }

    /// Cases from the published Porter2 vocabulary and the algorithm's
    /// exceptional forms, plus edge cases whose reference output was taken
    /// from snowballstemmer 2.2.0.
    @Test(arguments: [
        ("consign", "consign"), ("consigned", "consign"), ("consigning", "consign"),
        ("consignment", "consign"), ("consist", "consist"), ("consisted", "consist"),
        ("generously", "generous"), ("generate", "generat"), ("communication", "communic"),
        ("arsenal", "arsenal"),
        ("skies", "sky"), ("skis", "ski"), ("sky", "sky"), ("dying", "die"), ("lying", "lie"),
        ("tying", "tie"), ("news", "news"), ("bias", "bias"), ("atlas", "atlas"), ("andes", "andes"),
        ("cosmos", "cosmos"), ("howe", "howe"), ("early", "earli"), ("only", "onli"),
        ("singly", "singl"), ("ugly", "ugli"), ("idly", "idl"), ("gently", "gentl"),
        ("proceed", "proceed"), ("proceeded", "proceed"), ("succeeded", "succeed"),
        ("succeeds", "succeed"), ("exceed", "exceed"), ("innings", "inning"), ("outings", "outing"),
        ("herring", "herring"), ("earring", "earring"), ("canning", "canning"),
        ("knightly", "knight"), ("cared", "care"), ("caring", "care"), ("hopping", "hop"),
        ("hoped", "hope"), ("hoping", "hope"), ("agreed", "agre"), ("feed", "feed"),
        ("cries", "cri"), ("ties", "tie"), ("gas", "gas"), ("gaps", "gap"), ("kiwis", "kiwi"),
        ("yelling", "yell"), ("saying", "say"), ("eying", "eye"), ("cry", "cri"), ("say", "say"),
        ("happy", "happi"), ("ability", "abil"), ("relational", "relat"),
        ("conditional", "condit"), ("hopeful", "hope"), ("goodness", "good"),
        ("adjustment", "adjust"), ("adoption", "adopt"), ("controll", "control"), ("roll", "roll"),
        ("universally", "univers"), ("fluently", "fluentli"),
        // Apostrophes: one leading ' and the longest of 's' / 's / ' are removed.
        ("dog's", "dog"), ("dogs'", "dog"), ("'tis", "tis"), ("don't", "don't"), ("it's", "it"),
        ("sky's", "ski"), ("skies'", "ski"), ("''s", ""), ("'s", "'s"),
        // U+2019 is not an apostrophe to Snowball 2.2.0: it is kept, as a non-vowel.
        ("dog\u{2019}s", "dog\u{2019}"), ("news\u{2019}", "news\u{2019}"),
        // Short words, non-ASCII letters (non-vowels), upper case (non-vowels).
        ("", ""), ("a", "a"), ("by", "by"), ("ab", "ab"), ("the", "the"), ("yyy", "yyy"),
        ("ayyy", "ayyy"), ("cafés", "café"), ("naïvely", "naïv"), ("résumés", "résumé"),
        ("Yes", "Yes"), ("YELLING", "YELLING"),
    ])
    func handPicked(word: String, expected: String) {
        let got = EnglishStemmer().stem(word)
        #expect(got.unicodeScalars.elementsEqual(expected.unicodeScalars), "\(word) -> \(got), expected \(expected)")
    }
}
