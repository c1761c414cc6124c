@testable import ConvergeAnalysis
import ConvergeCore
import Foundation
import Testing

/// Facts read from the human consolidations in ../shared/corpus/consolidation (`gold.json`), checked on the
/// report `converge analyze --no-rubric` makes with lexical matching (the default without the embedding model).
@Suite struct ConsolidationTests {
    static func load(_ name: String) throws -> (AnalysisInput, Report) {
        let folder = Paths.corpus.appendingPathComponent("consolidation/\(name)").path
        let input = try SurveyFolder.load(paths: [folder], useFolderRubric: false)
        return (input, Analyzer().analyze(input))
    }

    static func evidence(_ report: Report) -> Set<[String]> {
        Set(report.keyPoints.flatMap { point in point.evidence.map { [$0.panelist, $0.quote] } })
    }

    @Test func aSharpKnifeIsOneKeyPointMadeByAllFive() throws {
        let (_, report) = try Self.load("ae-005")
        let sharp = report.keyPoints.filter { point in
            point.evidence.contains { $0.quote.localizedCaseInsensitiveContains("sharp knife") && $0.panelist == "gpt-4o" }
        }
        #expect(sharp.count == 1)
        #expect(sharp.first?.support.count == 5)
        #expect(sharp.first?.consensus == .unanimous)
        // The heading that names the point and the sentence that explains it are one key point.
        let quotes = Set(sharp.first?.evidence.map(\.quote) ?? [])
        #expect(quotes.contains("Use a Sharp Knife"))
        #expect(quotes.contains("A sharp knife requires less force and is less likely to slip compared to a dull one"))
    }

    /// ae-048, gpt-4o closes "In summary, the combination of the moon's brightness, its orbital position, the
    /// phase, and the angle of sunlight ..."; the gold counts "the angle of sunlight" and "the moon's brightness"
    /// as mentions of the points gpt-4o named `**Angle of Sunlight**:` and `**Brightness of the Moon**:`, and
    /// llama's "The moon's phase also plays a role in its visibility during the day" as one of its
    /// `**The moon's phase**:`. Before, the first two were key points of their own and the third joined gpt-4o's
    /// "Angle of Sunlight", a false agreement.
    @Test func aSummaryRestatingItsOwnNamedPointsJoinsThem() throws {
        let (_, report) = try Self.load("ae-048")
        func point(_ panelist: String, _ quote: String) -> Report.KeyPoint? {
            report.keyPoints.first { $0.evidence.contains { $0.panelist == panelist && $0.quote == quote } }
        }
        let angle = try #require(point("gpt-4o", "Angle of Sunlight"))
        #expect(angle.evidence.contains { $0.panelist == "gpt-4o" && $0.quote == "the angle of sunlight" })
        #expect(!angle.evidence.contains { $0.panelist == "llama-3.1-405b" && $0.quote.hasPrefix("The moon's phase also") })
        let brightness = try #require(point("gpt-4o", "Brightness of the Moon"))
        #expect(brightness.evidence.contains { $0.panelist == "gpt-4o" && $0.quote.hasSuffix("the moon's brightness") })
        let phase = try #require(point("llama-3.1-405b", "The moon's phase"))
        #expect(phase.evidence.contains { $0.quote == "The moon's phase also plays a role in its visibility during the day" })
    }

    /// A restatement joins only a name of its own answer said before it, whose words it holds all of, adding few.
    @Test func restatementsJoinOnlyTheirOwnAnswersEarlierNames() {
        func statement(_ answer: Int, _ start: Int, _ text: String, leadIn: Bool = false) -> Statement {
            Statement(answerIndex: answer, start: start, end: start + text.unicodeScalars.count, text: text,
                      kind: .clause, isLeadIn: leadIn)
        }
        let statements = [
            statement(0, 0, "Angle of Sunlight", leadIn: true),      // 0: a name
            statement(0, 100, "the angle of sunlight"),              // 1: restates 0
            statement(1, 100, "the angle of sunlight"),              // 2: another answer's words: stays
            statement(0, 200, "the angle of sunlight hits the moon and the earth and shapes every shadow"),  // 3: adds too much
            statement(0, 300, "Sunlight Angle Notes", leadIn: true), // 4: a second name
        ]
        let groups = [[0], [1], [2], [3], [4]]
        #expect(RestatementJoiner().join(groups, statements: statements) == [[0, 1], [2], [3], [4]])
        // A restatement said before the name is not a restatement of it.
        var early = statements
        early[1].start = 0
        early[0].start = 50
        early[0].end = 67
        #expect(RestatementJoiner().join(groups, statements: early) == groups)
    }

    @Test func noIntroductionIsAKeyPoint() throws {
        let (_, report) = try Self.load("ae-005")
        let evidence = Self.evidence(report)
        let filler = Set((report.filler ?? []).map { [$0.evidence.panelist, $0.evidence.quote] })
        // Each answer announces its list ("Here are some tips to help you dice safely:"): set aside, with reason.
        let announcements = (report.filler ?? []).filter { $0.evidence.quote.hasPrefix("Here are some") }
        #expect(Set(announcements.map(\.evidence.panelist)).count == 5)
        #expect(announcements.allSatisfy { $0.reason == "announcement" })
        for quote in [["gpt-4o", "Dicing ingredients can be done safely with the right techniques and precautions"],
                      ["llama-3.1-405b", "The eternal struggle of dicing ingredients without sacrificing a finger"],
                      ["gpt-4o", "Proper Grip"], ["llama-3.1-405b", "Additional tips"]] {
            #expect(filler.contains(quote), "\(quote) is filler")
            #expect(!evidence.contains(quote), "\(quote) is no key point")
        }
        #expect(!report.keyPoints.contains { $0.label.hasPrefix("Here are") || $0.label == "Remember" })
    }

    @Test func aListItemExplainingOnePointIsOneKeyPoint() throws {
        let (_, report) = try Self.load("ae-005")
        // qwen2-72b: "**Cut in Sections**: Don't try to cut a whole large vegetable at once. Cut it in manageable
        // sections, and then proceed with dicing." The gold has one point, made by this answer alone.
        let sections = report.keyPoints.filter { point in point.evidence.contains { $0.quote == "Cut in Sections" } }
        #expect(sections.count == 1)
        #expect(sections.first?.evidence.contains { $0.quote == "Don't try to cut a whole large vegetable at once" } == true)
    }

    /// Gold facts of two list items whose label names the point of one nested item, and of a quoted formula.
    @Test func labelsOverOneNestedItemAndQuotedFormulasAreEvidence() throws {
        // ae-215 limit-processed-whole-foods: claude-3.5-sonnet "Limit processed foods" (over one nested item) and
        // mistral-large "Avoid Processed Foods".
        let (_, nutrition) = try Self.load("ae-215")
        let processed = nutrition.keyPoints.filter { point in
            point.evidence.contains { $0.panelist == "claude-3.5-sonnet" && $0.quote == "Limit processed foods" }
        }
        #expect(processed.count == 1)
        #expect(processed.first?.evidence.contains { $0.panelist == "mistral-large" && $0.quote == "Avoid Processed Foods" }
                == true, "\(processed.map(\.label))")
        // ae-127 heartfelt-words: gpt-4o's quoted phrases are a point, not filler.
        let (_, comfort) = try Self.load("ae-127")
        let quote = "Phrases like \"I'm so sorry for your loss\" or \"I know how much your dog meant to you\" can be comforting"
        #expect(Self.evidence(comfort).contains(["gpt-4o", quote]))
        #expect(!(comfort.filler ?? []).contains { $0.evidence.quote == quote })
    }

    @Test func theReportHasAboutAsManyKeyPointsAsTheEditor() throws {
        // Gold key point counts; the engine 0.1.0 listed 3-5 times as many.
        for (name, gold) in [("ae-005", 28), ("ae-015", 33), ("ae-041", 30), ("ae-215", 49), ("senior-backend", 28)] {
            let (_, report) = try Self.load(name)
            #expect(Double(report.keyPoints.count) <= 1.6 * Double(gold), "\(name): \(report.keyPoints.count) key points")
            #expect(Double(report.keyPoints.count) >= 0.5 * Double(gold), "\(name): \(report.keyPoints.count) key points")
        }
    }

    @Test func labelsHaveNoDiscourseOpeners() throws {
        for name in ["ae-005", "ae-015", "ae-127", "senior-backend"] {
            let (_, report) = try Self.load(name)
            for point in report.keyPoints {
                for opener in ["Remember,", "Alongside ", "Coupled with ", "Additionally,", "Most importantly,", "Instead,"] {
                    #expect(!point.label.hasPrefix(opener), "\(name): \(point.label)")
                }
            }
        }
        // "Instead, focus on ..." drops its opener; "Instead of ..." says what instead of what and keeps it.
        #expect(Labels.withoutDiscourseOpener("Instead, focus on acknowledging the pain of their loss")
            == "focus on acknowledging the pain of their loss")
        #expect(Labels.withoutDiscourseOpener("Instead of using your phone as an alarm, get a clock")
            == "Instead of using your phone as an alarm, get a clock")
    }

    @Test func fillerIsExactAndNeverEvidence() throws {
        for name in ["ae-005", "ae-015", "ae-041", "ae-048", "ae-127", "ae-215", "senior-backend"] {
            let (input, report) = try Self.load(name)
            let answers = Dictionary(uniqueKeysWithValues: input.answers.map { ($0.panelist.id, $0.text) })
            #expect(quoteViolations(report, answers: answers) == [], "\(name)")
            let filler = Set((report.filler ?? []).map { [$0.evidence.panelist, "\($0.evidence.start)"] })
            let used = Set(report.keyPoints.flatMap { $0.evidence.map { [$0.panelist, "\($0.start)"] } })
            #expect(filler.isDisjoint(with: used), "\(name)")
        }
    }

    @Test func anAnswerOfPleasantriesMakesNoPointAndARepeatIsOnePoint() {
        let paragraph = "A sharp knife is safer because it needs less force. Curl your fingers into a claw grip."
        let report = Analyzer().analyze(AnalysisInput(prompt: nil, answers: [
            Answer(panelist: Panelist(id: "a", label: "a"), text: [paragraph, paragraph, paragraph].joined(separator: "\n\n")),
            Answer(panelist: Panelist(id: "b", label: "b"), text: "Use a claw grip: curl your fingers."),
            Answer(panelist: Panelist(id: "c", label: "c"), text: "Great question! I hope this helps."),
        ], rubric: nil))
        #expect(!report.keyPoints.contains { $0.support.contains("c") })
        #expect(report.keyPoints.filter { point in point.evidence.contains { $0.quote.hasPrefix("A sharp knife") } }.count == 1)
        #expect(Set((report.filler ?? []).filter { $0.evidence.panelist == "c" }.map(\.reason)) == ["pleasantry"])
    }

    /// Three answers name the same tip with bold lead-ins in two forms (`**X**: body`, `**X.** Body`) and in plain
    /// words: the lead-ins, which cluster with each other, and the bodies, which cluster with the third answer, are
    /// one key point, because every lead-in of the one group is explained by the other in its own list item.
    @Test func leadInsAndTheBodiesTheyNameAreOneKeyPoint() {
        let report = Analyzer().analyze(AnalysisInput(prompt: "How can I sleep better?", answers: [
            Answer(panelist: Panelist(id: "a", label: "a"), text: """
                1. **Keep a schedule**: go to bed and wake up at the same time every day, even on weekends.
                2. **Limit screens**: avoid phones and laptops for an hour before bed, because blue light delays sleep.
                """),
            Answer(panelist: Panelist(id: "b", label: "b"), text: """
                - **Consistent sleep schedule.** Going to bed and getting up at the same times each day trains your body clock.
                - **Make the bedroom dark and cool.** A cool, dark room helps you fall asleep.
                """),
            Answer(panelist: Panelist(id: "c", label: "c"), text: """
                1. Stick to a regular bedtime and wake time, including weekends.
                2. Keep your bedroom dark, quiet and cool.
                """),
        ], rubric: nil))
        let schedule = report.keyPoints.filter { point in
            point.evidence.contains { ["Keep a schedule", "Consistent sleep schedule"].contains($0.quote) }
                || point.evidence.contains { $0.quote.hasPrefix("go to bed") || $0.quote.hasPrefix("Going to bed") }
        }
        #expect(schedule.count == 1, "\(schedule.map(\.label))")
        #expect(schedule.first.map { Set($0.support) } == ["a", "b", "c"])
    }

    /// mistral-large names its nested items "**Carbohydrates**:", "**Proteins**:", "**Fats**:" under
    /// "**Macronutrients**:", with "**Micronutrients**:" next; the gold has a point for each (carbs-energy,
    /// protein-tissues, fat-vitamin-absorption, micronutrients, macros-overview). Lead-ins of one answer that
    /// clustered apart stay apart: before, the lead-in merges chained them (and 12 gold points) into one key point.
    @Test func namedItemsOfOneAnswerAreDifferentKeyPoints() throws {
        let (_, report) = try Self.load("ae-215")
        let names = ["Macronutrients", "Carbohydrates", "Proteins", "Fats", "Micronutrients"]
        let holders = try names.map { name in
            try #require(report.keyPoints.firstIndex { point in
                point.evidence.contains { $0.panelist == "mistral-large" && $0.quote == name }
            }, "\(name) is evidence of a key point")
        }
        #expect(Set(holders).count == names.count, "\(zip(names, holders).map { "\($0): \(report.keyPoints[$1].label)" })")
    }

    /// Bold lines and lead-ins that only label a part of the answer ("**Tips**", "**Important**", "**Tip:**") are
    /// set aside as section headings; what they label stays.
    @Test func boldLabelsOfAPartAreSectionHeadings() {
        let report = Analyzer().analyze(AnalysisInput(prompt: nil, answers: [
            Answer(panelist: Panelist(id: "a", label: "a"),
                   text: "**Tips**\n\n**Important**\n\nAlways cut away from your fingers.\n\n- **Tip:** Keep the knife sharp."),
            Answer(panelist: Panelist(id: "b", label: "b"),
                   text: "**Tips**\n\n- Cut away from your fingers.\n- A sharp knife is safer."),
        ], rubric: nil))
        let quotes = report.keyPoints.flatMap { $0.evidence.map(\.quote) }
        for label in ["Tips", "Important", "Tip"] {
            #expect(!quotes.contains(label), "\(label) is evidence: \(quotes)")
            #expect((report.filler ?? []).contains { $0.evidence.quote == label && $0.reason == "section heading" },
                    "\(label) is not a section heading: \(report.filler ?? [])")
        }
        #expect(report.keyPoints.contains { point in Set(point.support) == ["a", "b"]
            && point.evidence.contains { $0.quote == "Always cut away from your fingers" } })
    }

    /// A label is never a statement that opens by pointing back at another ("Their light keeps you alert") when
    /// the key point has a statement that stands alone.
    @Test func labelsDoNotOpenWithAReference() {
        #expect(Labels.opensWithReference("their light keeps you alert"))
        #expect(Labels.opensWithReference("Also, this makes it safer"))
        #expect(Labels.opensWithReference("It\u{2019}s safer"))
        #expect(!Labels.opensWithReference("Items on the list"))
        let report = Analyzer().analyze(AnalysisInput(prompt: nil, answers: [
            Answer(panelist: Panelist(id: "a", label: "a"),
                   text: "1. Put away screens an hour before sleeping; their light keeps you alert."),
            Answer(panelist: Panelist(id: "b", label: "b"), text: "1. Cut caffeine after noon."),
        ], rubric: nil))
        #expect(report.keyPoints.allSatisfy { !Labels.opensWithReference($0.label) }, "\(report.keyPoints.map(\.label))")
    }

    @Test func keyPointsComeWidestSupportFirst() throws {
        for name in ["ae-005", "ae-127", "ae-215"] {
            let (_, report) = try Self.load(name)
            let support = report.keyPoints.map(\.support.count)
            #expect(support == support.sorted(by: >), "\(name): \(support)")
        }
    }

    /// The editor's categories of ae-005 put the claw grip, holding the food and curled fingers under "Grip & Hand
    /// Position", and the cutting board and its damp cloth under "Cutting Board & Workspace".
    @Test func keyPointsAreGroupedIntoThemesAsTheEditorGroupedThem() throws {
        let (_, report) = try Self.load("ae-005")
        func category(_ label: String) -> String? { report.keyPoints.first { $0.label.hasPrefix(label) }?.category }
        /// The category of the key point holding a quote that opens with `quote` (labels move with the clustering).
        func category(quote: String, by panelist: String) -> String? {
            report.keyPoints.first { $0.evidence.contains { $0.panelist == panelist && $0.quote.hasPrefix(quote) } }?.category
        }
        let grip = try #require(category("Claw Grip"))
        #expect(category(quote: "Hold the food correctly", by: "mistral-large") == grip)
        // Known: lexical themes put "Keep your fingers curled" in a two-point theme with "Keep your eyes on the
        // blade" (shared words, not the idea) since named items of one answer stopped chaining into one key point.
        withKnownIssue {
            #expect(category(quote: "Keep your fingers curled", by: "llama-3.1-405b") == grip)
        }
        let board = try #require(category("Use a Cutting Board"))
        #expect(category("Stabilize your cutting board") == board)
        #expect(board != grip)
    }

    /// Every folder without a rubric: 3 to 8 themes, each of two key points or more, named in at most six words,
    /// none of them a generic heading ("Additional tips"), no two alike.
    @Test func everyReportHasThreeToEightNamedThemes() throws {
        for name in ["ae-005", "ae-015", "ae-041", "ae-048", "ae-127", "ae-215", "senior-backend"] {
            let (_, report) = try Self.load(name)
            var sizes: [String: Int] = [:]
            for point in report.keyPoints { if let category = point.category { sizes[category, default: 0] += 1 } }
            #expect((3...8).contains(sizes.count), "\(name): \(sizes)")
            #expect(sizes.values.allSatisfy { $0 >= 2 }, "\(name): \(sizes)")
            #expect(sizes.keys.allSatisfy { $0.split(separator: " ").count <= 6 }, "\(name): \(sizes.keys)")
            #expect(!sizes.keys.contains { ["additional tips", "conclusion", "other tips"].contains($0.lowercased()) })
            #expect(Set(sizes.keys.map { $0.lowercased() }).count == sizes.count)
            // No name is a clause cut short ("You can become a pro", "Which is easier to control").
            let openers: Set<String> = ["it", "it's", "they", "you", "whether", "which", "if", "this", "that"]
            #expect(!sizes.keys.contains { openers.contains($0.split(separator: " ")[0].lowercased()) }, "\(name): \(sizes.keys)")
            // Most key points have a theme; the rest are listed as other points.
            #expect(Double(sizes.values.reduce(0, +)) >= 0.8 * Double(report.keyPoints.count), "\(name)")
        }
    }

    /// Fewer than six key points are not worth themes: the report groups them by consensus.
    @Test func aShortReportHasNoThemes() {
        let input = AnalysisInput(prompt: "How do I dice onions?", answers: [
            Answer(panelist: Panelist(id: "a"), text: "Use a sharp knife. Curl your fingers."),
            Answer(panelist: Panelist(id: "b"), text: "Use a sharp knife. Go slowly."),
        ], rubric: nil)
        let report = Analyzer().analyze(input)
        #expect(!report.keyPoints.isEmpty)
        #expect(report.keyPoints.allSatisfy { $0.category == nil })
    }

    @Test(arguments: ["ae-127", "ae-005", "senior-backend"])
    func keyPointsDoNotDependOnAnswerOrder(_ name: String) throws {
        let (input, report) = try Self.load(name)
        func points(_ r: Report) -> Set<[String]> {
            Set(r.keyPoints.map { [$0.label, $0.category ?? "-"] + $0.support.sorted() + $0.evidence.map(\.quote).sorted() })
        }
        var reversed = input
        reversed.answers.reverse()
        var rotated = input
        rotated.answers = Array(input.answers[1...] + input.answers[..<1])
        for other in [Analyzer().analyze(reversed), Analyzer().analyze(rotated)] {
            #expect(points(other) == points(report))
            #expect(Set((other.filler ?? []).map(\.evidence)) == Set((report.filler ?? []).map(\.evidence)))
        }
    }
}

@Suite struct FillerDetectorTests {
    func filler(_ text: String, prompt: String? = nil) -> [String: FillerDetector.Reason] {
        let scalars = Array(text.unicodeScalars)
        let statements = Segmenter.statements(of: scalars, answerIndex: 0)
        let found = FillerDetector.classify(statements, answers: [scalars], prompt: prompt)
        return Dictionary(uniqueKeysWithValues: found.map { (statements[$0.key].text, $0.value) })
    }

    @Test func announcementsPleasantriesAndClosings() {
        let text = """
            That's a great goal! Networking at work can open up many opportunities. Here are some tips:

            1. **Be Patient:** Building a network takes time.
            2. **Additional tips:**
               - Join a club at work.

            By following these tips, you'll build a strong network. What would you like to focus on?
            """
        let found = filler(text, prompt: "I want to get better at networking at work")
        #expect(found["That's a great goal"] == .pleasantry)
        #expect(found["Networking at work can open up many opportunities"] == .introduction)
        #expect(found["Here are some tips"] == .announcement)
        #expect(found["Additional tips"] == .sectionHeading)
        #expect(found["By following these tips, you'll build a strong network"] == .closing)
        #expect(found["What would you like to focus on"] == .question)
        #expect(found["Be Patient"] == nil)
        #expect(found["Building a network takes time"] == nil)
        #expect(found["Join a club at work"] == nil)
    }

    /// Openings that accept the request and closings that wish the reader well (AlpacaEval answers: "Sure, here's
    /// a table listing ...", "Sure, I can help with that", "I hope you enjoy this recipe"), and a list's disclaimer.
    @Test func acceptancesWishesAndDisclaimersAreFiller() {
        let text = """
            Sure, here's a table listing the games:

            - Use fresh basil.
            - Cook the rice a day ahead.

            This list is not exhaustive. I hope you enjoy this recipe!
            """
        let found = filler(text, prompt: "Give me a recipe")
        #expect(found["Sure, here's a table listing the games"] == .announcement)
        #expect(found["This list is not exhaustive"] == .pleasantry)
        #expect(found["I hope you enjoy this recipe"] == .pleasantry)
        #expect(found["Use fresh basil"] == nil)
        let offer = filler("Of course, I can help with that. Dice the onion first.", prompt: nil)
        #expect(offer["Of course, I can help with that"] == .pleasantry)
        #expect(offer["Dice the onion first"] == nil)
    }

    /// Closings that promise, praise or disclaim (gold filler of ae-048 llama and mistral, ae-005 qwen, ae-215 qwen),
    /// and closing sentences that make a point (ae-041 llama "With persistence ... you can develop healthier phone
    /// habits", ae-215 llama "these are just the basics, and individual nutritional needs may vary").
    @Test func emptyClosingFormulasAreFillerOnlyInTheLastParagraph() {
        let text = """
            - Look for the moon in the eastern sky.
            - Nobody becomes a pro at this in no time.

            Remember, the moon can be harder to spot, but with a little patience, you can become a pro at finding it! \
            It can be a beautiful sight to behold! Safety should always come first in the kitchen. \
            Nutrition is a complex field and these are just the basics. With persistence, you can develop healthier \
            habits. These are just the basics, and individual needs may vary with age.
            """
        let found = filler(text)
        #expect(found["with a little patience, you can become a pro at finding it"] == .closing)
        #expect(found["It can be a beautiful sight to behold"] == .closing)
        #expect(found["Safety should always come first in the kitchen"] == .closing)
        #expect(found["Nutrition is a complex field and these are just the basics"] == .closing)
        #expect(found["the moon can be harder to spot"] == nil)
        #expect(found["With persistence, you can develop healthier habits"] == nil)
        #expect(!found.keys.contains { $0.contains("individual needs may vary") })
        #expect(found["Nobody becomes a pro at this in no time"] == nil)
    }

    @Test func anOpeningThatMakesAPointIsKept() {
        let text = """
            Losing a pet can be incredibly painful. Here are a few ways you can comfort them:

            - Listen to them.
            """
        let found = filler(text, prompt: "My friend's dog just died and they're really sad. How do I comfort them?")
        #expect(found["Losing a pet can be incredibly painful"] == nil)
        #expect(found["Here are a few ways you can comfort them"] == .announcement)
    }

    @Test func aHeadingOverFillerAndGenericHeadingsAreFiller() {
        let found = filler("## Knife\nUse a sharp knife so it does not slip.\n\n## Conclusion\nStay safe!\n")
        #expect(found["Conclusion"] == .sectionHeading)
        #expect(found["Knife"] == nil)
        #expect(found["Use a sharp knife so it does not slip"] == nil)
    }

    @Test func aListItemThatSaysSomethingIsNoSectionLabel() {
        let found = filler("- Hold it with a pinch grip.\n  - Keep the thumb on the blade.\n"
                           + "- **Boards:**\n  - Use a large board.\n  - Wipe it dry.\n")
        #expect(found["Hold it with a pinch grip"] == nil)
        #expect(found["Boards"] == .sectionHeading)
        // Over one nested item a label names that item's point; a generic one is still set aside.
        let one = filler("- **Boards:**\n  - Use a large board.\n- **Tips:**\n  - Wipe it dry.\n")
        #expect(one["Boards"] == nil)
        #expect(one["Tips"] == .sectionHeading)
    }

    /// A formula in quotation marks is an example the answer gives, not its own pleasantry: ae-127's gpt-4o,
    /// 'Phrases like "I'm so sorry for your loss" ... can be comforting', is a mention of the gold's
    /// heartfelt-words and was set aside as a pleasantry.
    @Test func aQuotedFormulaIsNoPleasantry() {
        let found = filler("""
            I'm so sorry for your loss. Phrases like "I'm so sorry for your loss" or "I know how much your dog meant \
            to you" can be comforting.
            """)
        #expect(found["I'm so sorry for your loss"] == .pleasantry)
        #expect(found.count == 1, "\(found)")
    }

    @Test func transitionsAreSetApart() {
        let found = filler("To summarize, curl your fingers under the knife. First and foremost, wash your hands well.")
        #expect(found["To summarize"] == .transition)
        #expect(found["First and foremost"] == .transition)
        #expect(found["curl your fingers under the knife"] == nil)
    }

    @Test func proseWithoutListsHasNoIntroductionRule() {
        let text = "You can see the moon during the day because it reflects sunlight. It orbits the Earth."
        #expect(filler(text, prompt: "Why can I see the moon during the day?").isEmpty)
    }
}

/// Counts the pair scores asked of it (each pair scores 0.5): how much work a pass does, not how long it takes.
private final class CountingSimilarity: PreparedSimilarity, @unchecked Sendable {
    private let lock = NSLock()
    private var calls = 0
    var count: Int { lock.withLock { calls } }
    func pairs(minimum: Double) -> [ScoredPair] { [] }
    func similarity(_ a: Int, _ b: Int) -> Double { lock.withLock { calls += 1 }; return 0.5 }
    func rubricCandidates(item: Int) -> [Int] { [] }
    func rubricScore(item: Int, statement: Int) -> Double { 0 }
}

@Suite struct BlockJoinerTests {
    /// A paragraph of thousands of statements (a long answer pasted as one paragraph) is joined in linear work:
    /// each statement is compared with at most `window` earlier ones. Before, each was compared with every earlier
    /// one, and a 680 KB one-paragraph answer took 436 s to analyse (12 s after; lexical, debug build).
    @Test func aLongParagraphIsJoinedInLinearWork() {
        let n = 3_000
        let statements = (0..<n).map { i in
            Statement(answerIndex: 0, start: i * 10, end: i * 10 + 5, text: "point \(i)", kind: .clause, block: 0)
        }
        let similarity = CountingSimilarity()
        let joiner = BlockJoiner(statements: statements, similarity: similarity, threshold: 0.5,
                                 pointBlock: PointBlocks.of(statements))
        let clusters = joiner.join((0..<n).map { [$0] })
        #expect(clusters.flatMap { $0 }.sorted() == Array(0..<n), "every statement is in one key point")
        #expect(similarity.count <= n * joiner.window, "\(similarity.count) pair scores for \(n) statements")
        // Score 0.5 reaches 0.6 x the threshold: neighbours join, as before.
        #expect(clusters.count < n)
    }
}
