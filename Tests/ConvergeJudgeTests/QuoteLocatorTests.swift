import Testing
@testable import ConvergeJudge

@Suite struct QuoteLocatorTests {
    let answer = "1. **Use a sharp knife**: A sharp knife requires less force\u{2014}so it slips less.\n\nKeep   your fingers curled."

    func located(_ quote: String) -> String? {
        let locator = QuoteLocator(answer: answer)
        guard case .success(let range) = locator.locate(quote) else { return nil }
        var text = String.UnicodeScalarView()
        text.append(contentsOf: locator.scalars[range])
        return String(text)
    }

    @Test func exactWordsAreFoundWithTheirOffsets() throws {
        let locator = QuoteLocator(answer: answer)
        let range = try locator.locate("A sharp knife requires less force").get()
        #expect(range == 26..<59)
        #expect(located("A sharp knife requires less force") == "A sharp knife requires less force")
    }

    @Test func looseQuotingIsNormalisedAndTheAnswersOwnTextComesBack() {
        // Lost bold, a capital, a hyphen for an em dash, one space for several, a trailing full stop.
        #expect(located("use a sharp knife: a sharp knife") == "Use a sharp knife**: A sharp knife")
        #expect(located("less force-so it slips less.") == "less force\u{2014}so it slips less")
        #expect(located("keep your fingers curled") == "Keep   your fingers curled")
        #expect(located("\u{201C}Keep your fingers curled\u{201D}") == "Keep   your fingers curled")
    }

    @Test func anEllipsisSkipsWordsInOrder() {
        #expect(located("A sharp knife ... so it slips less") == "A sharp knife requires less force\u{2014}so it slips less")
        #expect(located("so it slips less \u{2026} A sharp knife") == nil)
    }

    @Test func anEllipsisMustNotSkipMoreThanItCites() {
        let locator = QuoteLocator(answer: answer)
        // One-word pieces, and two pieces that only bracket the whole answer, verify nothing.
        #expect(locator.locate("Use ... your fingers curled") == .failure(.tooLoose))
        #expect(locator.locate("Use a sharp ... your fingers curled") == .failure(.tooLoose))
    }

    @Test func aQuoteMustNotCutAWord() {
        // Found by a fresh-user pass: "safe" inside "unsafe" turned a warning into its opposite.
        let locator = QuoteLocator(answer: "It is **unsafe** to wash it in the dishwasher. Possessing a deep, independent view.")
        #expect(locator.locate("safe to wash it in the dishwasher") == .failure(.notFound))
        #expect(locator.locate("ossessing a deep, independ") == .failure(.notFound))
        #expect(locator.locate("unsafe to wash it in the dishwasher") == .success(8..<45))
        #expect(locator.locate("is unsafe ... in the dishwasher") != .failure(.notFound))
        #expect(locator.locate("Possessing a deep, independent") == .success(47..<77))
        // Punctuation at a quote's edge needs no boundary: "deep, independent view." ends the answer.
        #expect(locator.locate("a deep, independent view.") == .success(58..<82))
    }

    @Test func fabricatedOrTooShortQuotesAreRefused() {
        let locator = QuoteLocator(answer: answer)
        #expect(locator.locate("Always wear cut-resistant gloves") == .failure(.notFound))
        #expect(locator.locate("knife") == .failure(.tooShort))
        #expect(locator.locate("  ") == .failure(.empty))
    }
}
