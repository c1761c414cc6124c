@testable import ConvergeAnalysis
import ConvergeCore
import Testing

@Suite struct SegmenterTests {
    func texts(_ markdown: String) -> [String] {
        Segmenter.statements(of: markdown, answerIndex: 0).map(\.text)
    }

    @Test func offsetsAreExactScalarSlices() {
        let text = "## Café ☕ skills\n\n- **Databases:** PostgreSQL and Redis.\n- Naïve caching 🚀 is risky. Measure first!\r\n"
        let scalars = Array(text.unicodeScalars)
        let statements = Segmenter.statements(of: text, answerIndex: 0)
        #expect(!statements.isEmpty)
        for s in statements { #expect(scalars.slice(s.start, s.end) == s.text) }
        #expect(statements.map(\.text) == ["Café ☕ skills", "Databases", "PostgreSQL and Redis",
                                           "Naïve caching 🚀 is risky", "Measure first"])
        #expect(statements.map(\.kind) == [.heading, .item, .sentence, .item, .sentence])
        #expect(statements[2].section == "Databases")
    }

    /// A relative clause describes what comes before it, in a list too; and a sentence's leading dependent phrase
    /// ("If you're new to dicing, ...") is no item of the list it opens (ae-005, llama-3.1-405b: "which is easier to
    /// control" was a statement of its own, and matched "Control the Food" of another answer).
    @Test func relativeClausesAndLeadingPhrasesAreNoListItems() {
        #expect(texts("If you're new to dicing, consider starting with a small, blunt knife or a paring knife, "
                      + "which is easier to control.")
                == ["If you're new to dicing, consider starting with a small, blunt knife or a paring knife, which is easier to control"])
        #expect(texts("Pack light clothes, a phone charger, a good book, which keeps you busy, and a bottle of sunscreen.")
                == ["Pack light clothes", "a phone charger", "a good book, which keeps you busy", "a bottle of sunscreen"])
    }

    /// Lettered sub-items are list items: a quote never runs into the next item's letter ("Open File Explorer\n b").
    @Test func letteredItemsAreItems() {
        let text = """
            1. Using File Explorer:
               a. Open File Explorer
               b. Right-click the drive
            2. Ask A. Lincoln.
               B) Type the command
            """
        let found = texts(text)
        #expect(found.contains("Open File Explorer"))
        #expect(found.contains("Right-click the drive"))
        #expect(found.contains("Type the command"))
        #expect(!found.contains { $0.contains("\n") || $0.hasSuffix(" b") })
        // An upper-case initial with a full stop is text, not a marker.
        #expect(found.contains { $0.contains("A. Lincoln") || $0.contains("Lincoln") })
    }

    @Test func listsHeadingsTablesAndCode() {
        let text = """
            # Title
            Intro sentence here. Second one follows.

            1. First numbered item
            2) Second numbered item
               continues on this line
            * Star item

            | Language | Use |
            |---|---|
            | Go | Services |

            ```swift
            let code = "not a statement."
            ```
            > Quoted advice stays.
            ---
            """
        #expect(texts(text) == ["Title", "Intro sentence here", "Second one follows", "First numbered item",
                                "Second numbered item\n   continues on this line", "Star item",
                                "Language | Use", "Go | Services", "Quoted advice stays"])
    }

    @Test func setextHeadingsAndByteOrderMark() {
        let statements = Segmenter.statements(of: "\u{FEFF}Skills\n======\n\nGo is fast.\n\nTools\n---\nMake.",
                                              answerIndex: 0)
        #expect(statements.map(\.text) == ["Skills", "Go is fast", "Tools", "Make"])
        #expect(statements.map(\.kind) == [.heading, .sentence, .heading, .sentence])
    }

    @Test func abbreviationsAndInitialsDoNotEndSentences() {
        #expect(texts("Read Clean Code by Robert C. Martin. It helps, e.g. with naming. Then refactor.")
            == ["Read Clean Code by Robert C. Martin", "It helps, e.g. with naming", "Then refactor"])
        #expect(texts("Version 3.5 is out. Costs $4.99 now.") == ["Version 3.5 is out", "Costs $4.99 now"])
    }

    @Test func enumerationsSplitIntoClauses() {
        let text = "Strong in languages like Go, Java, or Python, databases (SQL/NoSQL), messaging, and scalable architectures."
        let statements = Segmenter.statements(of: text, answerIndex: 0)
        // One-word fragments ("messaging") stay with the fragment before them.
        #expect(statements.map(\.text) == ["Strong in languages like Go, Java, or Python",
                                           "databases (SQL/NoSQL), messaging", "scalable architectures"])
        #expect(statements.allSatisfy { $0.kind == .clause })
        #expect(statements.allSatisfy { $0.sentence == 0..<(text.unicodeScalars.count - 1) })
    }

    @Test func shortFragmentsRejoinTheirNeighbour() {
        // "developing" alone is not a point.
        #expect(texts("Expertise in designing, developing, and maintaining server-side systems.")
            == ["Expertise in designing, developing", "maintaining server-side systems"])
        // A sentence with commas but no enumeration stays whole.
        #expect(texts("However, it works.") == ["However, it works"])
        // Thousands separators are not clause breaks.
        #expect(texts("It handles 10,000 requests per second on one core.")
            == ["It handles 10,000 requests per second on one core"])
    }

    /// Examples after a cue are part of the clause they illustrate (ANNOTATION.md: enumerations split only where
    /// they list separate points): ae-041's mistral-large, "such as reading a book, going for a walk, or
    /// practicing a hobby", was three fragments, each a key point of its own.
    @Test func examplesAfterACueStayWithTheirClause() {
        #expect(texts("Engage in activities that don't involve your phone, such as reading a book, going for a walk, "
                      + "or practicing a hobby.")
            == ["Engage in activities that don't involve your phone, such as reading a book, going for a walk, "
                + "or practicing a hobby"])
        #expect(texts("Find alternative activities to replace phone use, like reading, exercising, or pursuing hobbies.")
            == ["Find alternative activities to replace phone use, like reading, exercising, or pursuing hobbies"])
        // A list of separate points after an example still splits (senior-backend's ai-3, in
        // enumerationsSplitIntoClauses): "databases" is no gerund.
    }

    /// Coordinated adjectives are one noun phrase: ae-005's llama-3.1-405b, "starting with a small, blunt knife or
    /// a paring knife", was cut after "a small" (the gold quotes the sentence whole, beginner-small-knife).
    @Test func coordinatedAdjectivesAreNoClauseBreak() {
        let sentence = "If you're new to dicing, consider starting with a small, blunt knife or a paring knife, which is easier "
            + "to control"
        #expect(texts(sentence + ".") == [sentence])
        #expect(texts("Use a sturdy, non-slip cutting board.") == ["Use a sturdy, non-slip cutting board"])
        // A list of noun phrases still splits where each opens with its own determiner.
        #expect(texts("Bring a sharp chef's knife, a sturdy cutting board, and a damp kitchen towel.")
            == ["Bring a sharp chef's knife", "a sturdy cutting board", "a damp kitchen towel"])
    }

    /// A short list item over exactly one nested item names that item's point (ae-215's claude-3.5-sonnet:
    /// "7. Limit processed foods:" over "- Reduce intake of ..."; the gold quotes both for the one point); over
    /// several nested items it announces a section.
    @Test func aLabelOverOneNestedItemNamesItsPoint() {
        let one = Segmenter.statements(of: "7. Limit processed foods:\n   - Reduce intake of foods high in added sugars.\n",
                                       answerIndex: 0)
        #expect(one.map(\.text) == ["Limit processed foods", "Reduce intake of foods high in added sugars"])
        #expect(one.map(\.isLeadIn) == [true, false])
        #expect(one.allSatisfy { !$0.announcesSection })
        #expect(Set(PointBlocks.of(one)).count == 1, "the label and its item are one point")
        let several = Segmenter.statements(
            of: "1. Proper Grip:\n   - Hold the knife by the handle.\n   - Curl the fingers of the other hand.\n",
            answerIndex: 0)
        #expect(several.first?.text == "Proper Grip")
        #expect(several.first?.announcesSection == true)
        #expect(several.first?.isLeadIn == false)
        #expect(Set(PointBlocks.of(several)).count == 3)
    }

    @Test func boldLeadInsBecomeTheirOwnStatement() {
        let statements = Segmenter.statements(of: "1. **Hugh Jackman** - Won a Tony Award. He sings.", answerIndex: 3)
        #expect(statements.map(\.text) == ["Hugh Jackman", "Won a Tony Award", "He sings"])
        #expect(statements.allSatisfy { $0.answerIndex == 3 })
        #expect(statements[1].section == "Hugh Jackman")
    }

    /// A bold sentence that opens a list item names its point as a bold phrase with a colon does, with the period
    /// inside or outside the emphasis; the lead-in's quote leaves the period out.
    @Test func boldSentenceLeadInsNameTheirItem() {
        for text in ["- **Consistent sleep schedule.** Going to bed at the same time trains your body clock.",
                     "- **Consistent sleep schedule**. Going to bed at the same time trains your body clock."] {
            let statements = Segmenter.statements(of: text, answerIndex: 0)
            #expect(statements.map(\.text) == ["Consistent sleep schedule",
                                               "Going to bed at the same time trains your body clock"], "\(text)")
            #expect(statements.map(\.isLeadIn) == [true, false], "\(text)")
        }
        // Bold words inside a sentence are no lead-in; nor is a bold item with nothing after it.
        #expect(Segmenter.statements(of: "- **Always** cut away from your fingers.", answerIndex: 0)
            .allSatisfy { !$0.isLeadIn })
        #expect(Segmenter.statements(of: "- **Cut away from your fingers.**", answerIndex: 0).allSatisfy { !$0.isLeadIn })
    }

    /// In a block named by its lead-in, a sentence of two clauses that each stand alone makes two statements (ae-005
    /// gpt-4o: the gold counts "Ensure your workspace is well-lit" and "keep your cutting area clean and dry" as
    /// different points); a list of the lead-in's examples, or a clause too short to stand alone, stays in its
    /// sentence.
    @Test func aNamedBlockSplitsOnlyIntoClausesThatStandAlone() {
        func texts(_ text: String) -> [String] { Segmenter.statements(of: text, answerIndex: 0).map(\.text) }
        #expect(texts("7. **Mind Your Environment**: Ensure your workspace is well-lit and free of distractions, and keep "
                      + "your cutting area clean and dry.")
                == ["Mind Your Environment", "Ensure your workspace is well-lit and free of distractions",
                    "keep your cutting area clean and dry"])
        #expect(texts("- **Languages:** Learn Go, Java, Python, and Rust.") == ["Languages", "Learn Go, Java, Python, and Rust"])
        #expect(texts("- **Know Your Value**: Understand your strengths, achievements, and the skills you can offer to others.")
                == ["Know Your Value", "Understand your strengths, achievements, and the skills you can offer to others"])
        // Outside a named block the same sentence splits as before.
        #expect(texts("Ensure your workspace is well-lit and free of distractions, and keep your cutting area clean and dry.")
                == ["Ensure your workspace is well-lit and free of distractions", "keep your cutting area clean and dry"])
    }

    /// A dependent phrase after a conjunction joins the clause after it, as one that opens the sentence does, and a
    /// leading transition is no item of a serial list (ae-048 llama: "Remember, the moon can be a bit harder to spot
    /// during the day, but with a little patience and practice, you can become a pro at finding it!").
    @Test func aDependentPhraseAfterAConjunctionJoinsTheClauseAfterIt() {
        func texts(_ text: String) -> [String] { Segmenter.statements(of: text, answerIndex: 0).map(\.text) }
        #expect(texts("Remember, the moon can be a bit harder to spot during the day, but with a little patience and "
                      + "practice, you can become a pro at finding it!")
                == ["Remember", "the moon can be a bit harder to spot during the day",
                    "with a little patience and practice, you can become a pro at finding it"])
    }

    /// Emphasis that opens a statement and closes inside it, or opens inside and closes at its end, is quoted
    /// whole: a quote never shows half of a pair of marks ("Always** curl").
    @Test func quotesKeepBothMarksOfAnEmphasis() {
        func texts(_ text: String) -> [String] { Segmenter.statements(of: text, answerIndex: 0).map(\.text) }
        #expect(texts("- **Always** curl your fingertips under.") == ["**Always** curl your fingertips under"])
        #expect(texts("Go slowly at first. **Speed** will come later.") == ["Go slowly at first", "**Speed** will come later"])
        #expect(texts("- Use a knife and a **board**.") == ["Use a knife and a **board**"])
        #expect(texts("- _Never_ rush.") == ["_Never_ rush"])
        // Marks around the whole statement go, as before.
        #expect(texts("- **Use a sharp knife.**") == ["Use a sharp knife"])
    }

    /// A paragraph that is one short bold line is a heading (below `###`): it names the paragraph under it or
    /// announces a section; a bold sentence, a long bold line or a bold line with more text is not.
    @Test func aBoldLineAloneIsAHeading() {
        let statements = Segmenter.statements(of: "**Cutting board**\n\nPut a damp towel under the board.", answerIndex: 0)
        #expect(statements.map(\.text) == ["Cutting board", "Put a damp towel under the board"])
        #expect(statements.map(\.blockKind) == [.heading, .paragraph])
        #expect(statements[0].isLeadIn)
        for text in ["**Always cut away from your fingers.**", "**Use** a sharp knife", "__Knife__ and **board**",
                     "**One two three four five six seven eight nine**"] {
            #expect(Segmenter.statements(of: text, answerIndex: 0).allSatisfy { $0.blockKind != .heading }, "\(text)")
        }
    }

    @Test func isLinearInAnswerLength() {
        // Not a timing test: a long answer segments without pathological behaviour and keeps offsets.
        let paragraph = "Caching cuts latency, load, and cost. Measure before you tune, e.g. with p99 latency.\n\n"
        let text = String(repeating: paragraph, count: 2_000)
        let statements = Segmenter.statements(of: text, answerIndex: 0)
        #expect(statements.count == 2_000 * 2)
        let scalars = Array(text.unicodeScalars)
        #expect(statements.allSatisfy { scalars.slice($0.start, $0.end) == $0.text })
    }
}

@Suite struct TokenizerTests {
    @Test func keepsTechnicalNamesWhole() {
        let words = Tokenizer.tokens("Use C#, C++, Node.js, CI/CD and gRPC; 5-8+ years (don't panic) — R&D.").map(\.text)
        #expect(words == ["Use", "C#", "C++", "Node.js", "CI/CD", "and", "gRPC", "5-8+", "years", "don't", "panic",
                          "R&D"])
    }

    @Test func offsetsCountUnicodeScalars() {
        let tokens = Tokenizer.tokens("é🚀 naïve")
        #expect(tokens.map(\.text) == ["é", "naïve"])
        #expect(tokens[1].start == 3 && tokens[1].end == 8)
    }
}

@Suite struct TermExtractorTests {
    func terms(_ answers: [String]) -> [TermMention] {
        let scalars = answers.map { Array($0.unicodeScalars) }
        var statements: [Statement] = []
        for (i, a) in answers.enumerated() { statements += Segmenter.statements(of: a, answerIndex: i) }
        return TermExtractor().mentions(answers: scalars, statements: statements)
    }

    @Test func goTheLanguageIsNotTheVerb() {
        let mentions = terms(["We go fast. Teams pick Go for services.", "Go is simple. They go home."])
        #expect(mentions.filter { $0.kind == .name }.map(\.text) == ["Go", "Go"])
        #expect(mentions.filter { $0.kind == .name }.map(\.answerIndex) == [0, 1])
    }

    @Test func sentenceInitialCapitalIsNotAName() {
        let mentions = terms(["Strong engineers write tests. Clearly this matters. The Team ships. 2) Numbered items."])
        #expect(mentions.isEmpty)
    }

    @Test func spelledOutQuantities() {
        let quantities = terms(["Expect five years of practice, not one thing."]).filter { $0.kind == .quantity }
        #expect(quantities.map(\.text) == ["five years"])
        #expect(quantities.map(\.key) == ["5 year"])
    }

    @Test func slashFormsAndCompounds() {
        let names = terms(["It uses SQL/NoSQL stores, REST/gRPC APIs, CI/CD, TCP/IP and I/O."]).map(\.text)
        #expect(names == ["SQL", "NoSQL", "REST", "gRPC", "APIs", "CI/CD", "TCP/IP", "I/O"])
    }

    @Test func titlesAndQuantities() {
        let mentions = terms(["Read \u{201C}The Pragmatic Programmer\u{201D} and \"Clean Code\" after 5 to 8 years; 40% do."])
        #expect(mentions.filter { $0.kind == .title }.map(\.text) == ["The Pragmatic Programmer", "Clean Code"])
        let quantities = mentions.filter { $0.kind == .quantity }
        #expect(quantities.map(\.text) == ["5 to 8 years", "40%"])
        #expect(quantities.map(\.value) == ["5-8", "40"])
    }

    @Test func multiWordNamesKeyCaseInsensitively() {
        let mentions = terms(["Familiar with Clean Code.", "Essential reads like \"Clean code\"."])
        #expect(Set(mentions.map(\.key)) == ["clean code"])
    }
}

@Suite struct ConsensusLevelTests {
    @Test(arguments: [
        (3, 3, ConsensusLevel.unanimous), (2, 3, .majority), (1, 3, .unique), (2, 4, .split), (3, 4, .majority),
        (2, 5, .split), (3, 5, .majority), (5, 5, .unanimous), (2, 2, .unanimous), (1, 2, .unique), (1, 1, .unique),
    ])
    func levelFromSupport(support: Int, panel: Int, level: ConsensusLevel) {
        #expect(ConsensusLevel(support: support, panelSize: panel) == level)
    }
}

@Suite struct LabelTests {
    @Test func labelsDropLinkTargetsAndHTML() throws {
        let report = Analyzer().analyze(AnalysisInput(prompt: nil, answers: [
            Answer(panelist: Panelist(id: "a"), text: "Read the [Go tour](https://go.dev/tour) <b>first</b>."),
        ], rubric: nil))
        #expect(report.keyPoints.first?.label == "Read the Go tour first")
        #expect(report.keyPoints.first?.evidence.first?.quote == "Read the [Go tour](https://go.dev/tour) <b>first</b>")
    }

    @Test func caselessScriptsSplitIntoSentences() {
        let statements = Segmenter.statements(of: "مرحبا بالعالم. هذا اختبار؟ نعم", answerIndex: 0)
        #expect(statements.map(\.text) == ["مرحبا بالعالم", "هذا اختبار", "نعم"])
    }
}
