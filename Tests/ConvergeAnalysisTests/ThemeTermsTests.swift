import ConvergeAnalysis
import ConvergeCore
import Testing

/// Theme names from the terms a theme's key points share (c-TF-IDF), on statements made by the real segmenter.
@Suite struct ThemeTermsTests {
    /// Themes of key points, each key point given as its statements' text; returns the names.
    static func names(_ themes: [[[String]]]) -> [String?] {
        var statements: [Statement] = []
        var indexed: [[[Int]]] = []
        for theme in themes {
            var groups: [[Int]] = []
            for point in theme {
                var group: [Int] = []
                for text in point {
                    let made = Segmenter.statements(of: Array(text.unicodeScalars), answerIndex: statements.count)
                    group += made.indices.map { statements.count + $0 }
                    statements += made
                }
                groups.append(group)
            }
            indexed.append(groups)
        }
        return ThemeTerms().names(indexed, statements: statements)
    }

    @Test func aPhraseTwoKeyPointsShareNamesTheirTheme() {
        let names = Self.names([
            [["Moon phases change every night."], ["The moon phases follow a cycle of 29 days."], ["Look away from glare."]],
            [["The angle of sunlight matters."], ["Sunlight angle decides brightness."], ["Sunlight reflects off the surface."]],
        ])
        #expect(names[0] == "Moon Phases")
        // A word of every key point first, then one of two of them: both, in their written forms.
        #expect(names[1] == "Sunlight & Angle")
    }

    @Test func aWordOfOneKeyPointOrAVerbNamesNothing() {
        let names = Self.names([
            [["Water helps digestion."], ["Sleep at night."]],
            [["Reduce it."], ["Reduce that."]],
            // Adjectives and -ing forms stand only inside a phrase.
            [["Nutritional labels list sugar."], ["Nutritional claims mislead."], ["Possessing stamina."]],
        ])
        #expect(names[0] == nil)
        #expect(names[1] == nil)
        #expect(names[2] == nil)
    }
}
