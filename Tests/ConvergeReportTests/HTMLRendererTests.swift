import ConvergeAnalysis
import ConvergeCore
import Foundation
import Testing

@testable import ConvergeReport

@Suite struct HTMLRendererTests {
    /// Position of the first occurrence of `text` in `html`, failing the test when there is none.
    func position(of text: String, in html: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> Int {
        let range = try #require(html.range(of: text), "missing: \(text)", sourceLocation: sourceLocation)
        return html.distance(from: html.startIndex, to: range.lowerBound)
    }

    func count(_ text: String, in html: String) -> Int { html.components(separatedBy: text).count - 1 }

    /// A survey where fewer than two panelists answered shows no convergence number, no gauge, and says that
    /// nobody answered rather than pointing at the CLI.
    @Test func withoutTwoAnswersThereIsNoIndex() throws {
        var (report, _) = try seniorBackendHTMLReport()
        report.turns = [Report.Turn(index: 0, prompt: report.prompt ?? "", responses: [])]
        report.keyPoints = []
        report.terms = []
        report.conflicts = []
        for i in report.panelists.indices {
            report.panelists[i].status = .failed
            report.panelists[i].error = "HTTP 500: down"
        }
        let html = HTMLRenderer.render(report)
        #expect(html.contains("<span class=\"value\">—</span> <span class=\"caption\">convergence index (needs two answers)"))
        #expect(!html.contains("<span class=\"value\">0.00</span>"))
        #expect(html.contains("<p class=\"note\">No panelist answered.</p>"))
        #expect(!html.contains("converge analyze --format html"))
        let full = HTMLRenderer.render(try seniorBackendHTMLReport().0)
        #expect(full.contains("<span class=\"caption\">convergence index</span>"))
    }

    @Test func seniorBackendPageHasEverySectionInOrder() throws {
        let (report, _) = try seniorBackendHTMLReport()
        let html = HTMLRenderer.render(report)
        #expect(html.hasPrefix("<!DOCTYPE html>\n<html lang=\"en\">"))
        #expect(html.hasSuffix("</html>\n"))
        let sections = ["prompt", "panel", "convergence", "omissions", "rubric", "heatmap", "key-points", "terms",
                        "conflicts", "answers"]
        let positions = try sections.map { try position(of: "<section id=\"\($0)\"", in: html) }
        #expect(positions == positions.sorted(), "sections out of order")
        #expect(try position(of: "<footer", in: html) > positions.last!)

        // The prompt, the panel and the index.
        #expect(html.contains("<blockquote class=\"prompt\">What does it mean to be a Senior Software Engineer"))
        #expect(count("<tr class=\"answered\">", in: html) == 3)
        #expect(html.contains("<span class=\"value\">\(HTMLPage.format(report.convergence.index))</span>"))
        // The author's finding, set apart: nobody mentioned AI.
        #expect(report.omissions.contains { $0.item == "ai-tools" })
        #expect(html.contains("<span class=\"lead\">Nobody mentioned:</span> <strong>AI in the workflow</strong> — "
            + "Using AI tools to augment the engineer&#39;s own work <code>ai-tools</code>"))
        // Rubric coverage: one row per item.
        #expect(count("<th scope=\"row\">", in: html.components(separatedBy: "<table class=\"coverage\">")[1]
            .components(separatedBy: "</table>")[0]) == report.rubric!.items.count)
    }

    @Test func keyPointsHeatmapAndAnswersAgree() throws {
        let (report, _) = try seniorBackendHTMLReport()
        let html = HTMLRenderer.render(report)
        let page = HTMLPage(report)
        #expect(count("<details class=\"kp\">", in: html) == report.keyPoints.count)
        // Grouped by rubric category, one heading per group, key points numbered in display order.
        #expect(page.groups.map(\.title).first == report.keyPoints.compactMap(\.category).first)
        for (k, _) in page.keyPoints.enumerated() { #expect(count("id=\"kp-\(k + 1)\"", in: html) == 1) }
        // Heatmap: one filled cell with a dot per (key point, supporting panelist), an empty one otherwise.
        let heatmap = html.components(separatedBy: "<svg class=\"heatmap\"")[1].components(separatedBy: "</svg>")[0]
        let supports = report.keyPoints.reduce(0) { $0 + $1.support.count }
        #expect(count("<circle class=\"dot\"", in: heatmap) == supports)
        #expect(count("<rect class=\"empty\"", in: heatmap) == report.keyPoints.count * 3 - supports)
        #expect(heatmap.contains("<title id=\"heatmap-title\">") && heatmap.contains("aria-labelledby=\"heatmap-title heatmap-desc\""))
        // Every key point quote links to its anchor in the full answers, and the anchor exists once.
        let answers = answersPart(html)
        for (k, point) in page.keyPoints.enumerated() {
            for e in point.evidence.indices {
                let anchor = HTMLPage.quoteAnchor(k, e)
                #expect(html.contains("href=\"#\(anchor)\""), "no link to \(anchor)")
                #expect(count("id=\"\(anchor)\"", in: String(answers)) == 1, "anchor \(anchor)")
            }
        }
        #expect(count("<article class=\"answer\"", in: html) == 3)
        // The full answers are there, and the conflict (5+ years against 5-8+ years) side by side.
        #expect(html.contains("<p class=\"value\">5-8+ years</p>"))
    }

    @Test func pageIsWellFormedAndUsesOnlyTheRenderersOwnMarkup() throws {
        for html in [HTMLRenderer.render(try seniorBackendHTMLReport().report), HTMLRenderer.render(HostileReport.report()),
                     HTMLRenderer.render(minimalReport(answered: 1, failed: 2))] {
            let tags = try scanTags(html)
            #expect(nestingProblem(tags) == nil)
            for tag in tags {
                #expect(allowedTags.contains(tag.name), "tag <\(tag.name)> from report text")
                for attribute in tag.attributes {
                    #expect(allowedAttributes.contains(attribute.name), "attribute \(attribute.name) on <\(tag.name)>")
                    if attribute.name == "href" {
                        // Only links inside the page (and the empty icon): no report text becomes a URL.
                        #expect(attribute.value.hasPrefix("#") || attribute.value == "data:,", "href \(attribute.value)")
                        #expect(attribute.value.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "#-:,".contains($0)) })
                    }
                    if attribute.name == "id" { #expect(attribute.value.allSatisfy { $0.isASCII }) }
                }
            }
        }
    }

    @Test func hostileTextIsEscapedEverywhere() throws {
        let html = HTMLRenderer.render(HostileReport.report())
        for bad in ["<script", "<img", "<iframe", "<svg onload", "onerror=\"", "onload=\"", "href=\"javascript", "<b ", "<style>body"] {
            #expect(!html.contains(bad), "unescaped: \(bad)")
        }
        #expect(count("<style>", in: html) == 1)
        // The payloads are shown as text, escaped, in the answers and elsewhere.
        for payload in HostileReport.payloads {
            #expect(html.contains(HTMLEscaping.text(payload)), "not shown: \(payload)")
        }
        #expect(html.contains("&lt;script&gt;document.title=&#39;PWNED&#39;"))
        #expect(html.contains("javascript:alert(1) and https://example.com/x"))
        // The failed panelist's error is shown, escaped.
        #expect(html.contains("<div class=\"error\">HTTP 500: &lt;script&gt;"))
        // Quotes are still found and highlighted in the escaped answers.
        #expect(markedTexts(String(answersPart(html))).contains(HTMLEscaping.text(HostileReport.script)))
    }

    @Test func escapingCoversTheFiveCharactersAndControls() {
        #expect(HTMLEscaping.text("a&b<c>d\"e'f") == "a&amp;b&lt;c&gt;d&quot;e&#39;f")
        #expect(HTMLEscaping.text("x\u{0}y\u{7}z\u{7F}\u{85}\u{FFFE}") == "x\u{FFFD}y\u{FFFD}z\u{FFFD}\u{FFFD}\u{FFFD}")
        #expect(HTMLEscaping.text("tab\tline\nret\r") == "tab\tline\nret\r")
        #expect(HTMLEscaping.attribute("two\nlines\"<") == "two lines&quot;&lt;")
        // Combining marks after an escaped character stay after its reference (scalar-wise, not by Character).
        #expect(HTMLEscaping.text("<\u{301}") == "&lt;\u{301}")
    }

    @Test func highlightsAreExactWithEmojiAndCombiningMarks() throws {
        // Offsets count Unicode scalars: the family emoji is 5 scalars, "é" as e + U+0301 is 2, the flag 2.
        let text = "Intro 👩‍👩‍👧 then cafe\u{301} <b>&</b> 🇫🇷 end.\nSecond line with e\u{301}\u{323} marks 👍🏽 here."
        let quotes = ["cafe\u{301} <b>&", "\u{301}\u{323} marks 👍🏽", "👧 then", "🇫🇷 end."]
        var evidence: [Report.Evidence] = []
        for quote in quotes {
            let r = try #require(scalarRange(of: quote, in: text))
            evidence.append(.init(panelist: "p1", quote: quote, start: r.start, end: r.end))
        }
        // A span starting on a combining mark cannot be expressed with Character indices; by scalars it can.
        let inside = text.unicodeScalars.index(text.unicodeScalars.startIndex, offsetBy: evidence[1].start)
        #expect(String.Index(inside, within: text) == nil, "the quote starts inside a Character")
        var report = minimalReport(answered: 2)
        report.keyPoints = [Report.KeyPoint(id: "kp-1", label: "Unicode", category: nil, support: ["p1"],
                                            consensus: .unique, evidence: evidence)]
        report.turns = [Report.Turn(index: 0, prompt: "", responses: [
            .init(panelist: "p1", sample: 0, status: .answered, text: text),
            .init(panelist: "p2", sample: 0, status: .answered, text: "Other."),
        ])]
        let html = HTMLRenderer.render(report)
        let marks = markedTexts(String(answersPart(html)))
        // "👧 then" and "🇫🇷 end." do not overlap the others; the first two do not overlap either.
        #expect(marks == quotes.sorted { scalarRange(of: $0, in: text)!.start < scalarRange(of: $1, in: text)!.start }
            .map { HTMLEscaping.text($0) })
        // In context (key point section), each quote is marked exactly, with the rest of its line around it.
        let keyPoints = html.components(separatedBy: "<section id=\"key-points\">")[1].components(separatedBy: "</section>")[0]
        #expect(markedTexts(keyPoints).sorted() == quotes.map { HTMLEscaping.text($0) }.sorted())
        let marked = "Intro 👩‍👩‍<mark class=\"lvl-unique\">👧 then</mark> cafe\u{301} &lt;b&gt;&amp;&lt;/b&gt; 🇫🇷 end."
        #expect(keyPoints.contains(marked))
        #expect(keyPoints.contains("Second line with e<mark class=\"lvl-unique\">\u{301}\u{323} marks 👍🏽</mark> here."))
    }

    @Test func overlappingSpansShareMarksAndKeepEveryAnchor() {
        let text = Array("0123456789".unicodeScalars)
        let spans = [
            HTMLHighlight.Span(start: 2, end: 6, anchor: "a", markClass: "lvl-unanimous", title: "A", backLink: ("kp-1", "K1", "A")),
            HTMLHighlight.Span(start: 4, end: 8, anchor: "b", markClass: "conflict", title: "B", backLink: nil),
            HTMLHighlight.Span(start: 9, end: 12, anchor: "c", markClass: "rubric", title: "C", backLink: nil),  // out of range
        ]
        let html = HTMLHighlight.answer(text, spans: spans)
        #expect(html == "01<span class=\"anchor\" id=\"a\"></span><mark class=\"lvl-unanimous\" title=\"A\">23</mark>"
            + "<span class=\"anchor\" id=\"b\"></span><mark class=\"lvl-unanimous\" title=\"A; B\">45</mark>"
            + "<a class=\"ref\" href=\"#kp-1\" title=\"A\">K1</a><mark class=\"conflict\" title=\"B\">67</mark>89")
    }

    @Test func quotesWhoseOffsetsDoNotHoldAreShownBareAndNeverHighlighted() {
        var report = minimalReport(answered: 2)
        report.keyPoints = [Report.KeyPoint(id: "kp-1", label: "Bad offsets", category: nil, support: ["p1", "p2"],
                                            consensus: .unanimous, evidence: [
                                                .init(panelist: "p1", quote: "Tests matter.", start: 5, end: 999),
                                                .init(panelist: "p2", quote: "not what it says", start: 0, end: 5),
                                            ])]
        report.turns = [Report.Turn(index: 0, prompt: "", responses: [
            .init(panelist: "p1", sample: 0, status: .answered, text: "Tests matter."),
            .init(panelist: "p2", sample: 0, status: .answered, text: "Other words."),
        ])]
        let html = HTMLRenderer.render(report)
        #expect(html.contains("<blockquote class=\"ctx\"><mark class=\"lvl-unanimous\">Tests matter.</mark></blockquote>"))
        #expect(html.contains("<mark class=\"lvl-unanimous\">not what it says</mark>"))
        #expect(markedTexts(String(answersPart(html))).isEmpty)
        #expect(!html.contains("href=\"#q-"))
    }

    @Test func blindPageLeaksNoIdOrModel() throws {
        let input = AnalysisInput(prompt: "Which database?", answers: [
            Answer(panelist: Panelist(id: "gpt-4o", label: "GPT four", model: "openai/gpt-4o"),
                   text: "Use PostgreSQL for relational data. Add Redis for caching."),
            Answer(panelist: Panelist(id: "sonnet", label: "Claude Sonnet", model: "anthropic/claude-sonnet-4-5"),
                   text: "PostgreSQL is the safe default. Redis helps with caching."),
        ], rubric: nil, panel: [
            Panelist(id: "gpt-4o", label: "GPT four", model: "openai/gpt-4o"),
            Panelist(id: "sonnet", label: "Claude Sonnet", model: "anthropic/claude-sonnet-4-5"),
            Panelist(id: "gemini-pro", label: "Gemini", model: "gemini/gemini-2.5-pro"),
        ], failures: ["gemini-pro": "HTTP 404: model gemini-2.5-pro not found for Gemini"])
        let open = Analyzer().analyze(input).attachingAnswers(input.answers)
        let html = HTMLRenderer.render(open.blinded())
        for leak in ["gpt-4o", "GPT four", "sonnet", "Sonnet", "Claude", "openai", "anthropic", "gemini", "Gemini"] {
            #expect(!html.contains(leak), "leaks \(leak)")
        }
        #expect(html.contains("<bdi>AI 1</bdi>") && html.contains("<bdi>AI 3</bdi>"))
        #expect(html.contains("HTTP 404: model AI 3 not found for AI 3"))
        #expect(count("<article class=\"answer\"", in: html) == 2)
        #expect(html.contains("blind labels"))
        // Without blinding the same page names them.
        #expect(HTMLRenderer.render(open).contains("openai/gpt-4o"))
    }

    @Test func withoutRubricOrAnswersThePageSaysSo() throws {
        let html = HTMLRenderer.render(minimalReport(answered: 1, failed: 1))
        #expect(!html.contains("<section id=\"omissions\"") && !html.contains("<section id=\"rubric\""))
        #expect(html.contains("The answer texts are not part of this report"))
        #expect(html.contains("only one panelist (<bdi>P1</bdi>) answered"))
        #expect(html.contains("<span class=\"status failed\">failed</span>"))
        let errorRow = "<tr class=\"failed error-row\"><td colspan=\"4\"><div class=\"error\">HTTP 429: rate limited\n"
            + "retry after 20 s</div></td></tr>"
        #expect(html.contains(errorRow))
        // Grouped by consensus level.
        #expect(html.contains("<h3>Unique</h3>"))
        #expect(html.contains("<blockquote class=\"ctx\"><mark class=\"lvl-unique\">Tests matter.</mark></blockquote>"))
        let empty = HTMLRenderer.render(minimalReport(answered: 0))
        #expect(empty.contains("No panelist answered") && empty.contains("No key points."))
    }

    @Test func repeatSamplesAreShownEachWithItsHighlights() throws {
        let input = AnalysisInput(prompt: "Language?", answers: [
            Answer(panelist: Panelist(id: "a"), text: "Go is fast. Rust is safe."),
            Answer(panelist: Panelist(id: "a"), text: "I would say Go, because Go is fast."),
            Answer(panelist: Panelist(id: "b"), text: "Go is fast and simple."),
        ], rubric: nil)
        let report = Analyzer().analyze(input).attachingAnswers(input.answers)
        let html = HTMLRenderer.render(report)
        #expect(html.contains("id=\"answer-0-0\"") && html.contains("id=\"answer-0-1\"") && html.contains("id=\"answer-1-0\""))
        #expect(html.contains("sample 2 of 2"))
        // Every quote that points into the second sample is highlighted there.
        let second = html.components(separatedBy: "id=\"answer-0-1\"")[1].components(separatedBy: "</article>")[0]
        let intoSecond = report.keyPoints.flatMap(\.evidence).filter { $0.panelist == "a" && $0.sample == 1 }
        #expect(!intoSecond.isEmpty)
        for evidence in intoSecond { #expect(markedTexts(second).contains(HTMLEscaping.text(evidence.quote))) }
    }

    @Test func heatmapOfAHugeReportIsCutAndSaysSo() {
        var report = minimalReport(answered: 2)
        report.keyPoints = (0..<450).map { i in
            Report.KeyPoint(id: "kp-\(i)", label: "Point \(i)", category: nil, support: i < 10 ? ["p1", "p2"] : ["p1"],
                            consensus: i < 10 ? .unanimous : .unique, evidence: [])
        }
        let html = HTMLRenderer.render(report)
        let heatmap = html.components(separatedBy: "<svg class=\"heatmap\"")[1].components(separatedBy: "</svg>")[0]
        #expect(count("<a href=\"#kp-", in: heatmap) == HTMLPage.heatmapRowLimit)
        #expect(html.contains("The heatmap shows the first 400 of 450 key points"))
        #expect(count("<details class=\"kp\"", in: html) == 450)
        // The widest agreement comes first, so every unanimous point is in the heatmap.
        #expect(heatmap.contains("<text class=\"group\" x=\"0\" y=") && heatmap.contains(">Unanimous</text>"))
    }

    @Test func renderingIsDeterministicAndReachableByFormat() throws {
        let (report, _) = try seniorBackendHTMLReport()
        let html = HTMLRenderer.render(report)
        #expect(html == HTMLRenderer.render(try seniorBackendHTMLReport().report))
        #expect(ReportRenderer.render(report, format: .html) == html)
        #expect(ReportFormat.html.fileExtension == "html")
        // Attaching answers never replaces a live survey's turns, and leaves the JSON of analyze alone otherwise.
        #expect(report.attachingAnswers([]).turns == report.turns)
    }
}

/// The page groups key points by category, so its display order is not the report's; the number a key point
/// shows (`K9`) and its anchor (`#kp-9`) are those of its id in the JSON and CSV reports, in every place the
/// page names it (key points, heatmap, answers).
@Suite struct HTMLKeyPointNumberTests {
    @Test func numbersAreTheReportIDsWhateverTheGrouping() throws {
        var (report, _) = try seniorBackendHTMLReport()
        #expect(report.keyPoints.count >= 4)
        // Alternating categories: the page shows kp-1, kp-3, kp-5, ... and then kp-2, kp-4, ...
        for i in report.keyPoints.indices {
            #expect(report.keyPoints[i].id == "kp-\(i + 1)")
            report.keyPoints[i].category = i % 2 == 0 ? "Odd ids" : "Even ids"
        }
        let html = HTMLRenderer.render(report)
        let details = Array(html.components(separatedBy: "<details class=\"kp\">").dropFirst())
        #expect(details.count == report.keyPoints.count)
        let second = try #require(details.dropFirst().first)
        #expect(second.contains("<span class=\"num\">K3</span>"))
        #expect(second.contains("id=\"kp-3\""))
        let shown = details.compactMap { $0.components(separatedBy: "<span class=\"num\">K").dropFirst().first }
            .compactMap { Int($0.prefix { $0.isNumber }) }
        let odd = Array(stride(from: 1, through: report.keyPoints.count, by: 2))
        let even = Array(stride(from: 2, through: report.keyPoints.count, by: 2))
        #expect(shown == odd + even)
        // The heatmap row of kp-3 links to it and shows its number.
        #expect(html.contains("<a href=\"#kp-3\"><text class=\"row\""))
        #expect(html.contains("<tspan class=\"num\">K3</tspan>"))
    }

    /// Ids not of the form `kp-<n>` (a hand-made report) number by their place in the report's list.
    @Test func otherIDsNumberByTheirPlaceInTheReport() throws {
        var (report, _) = try seniorBackendHTMLReport()
        for i in report.keyPoints.indices { report.keyPoints[i].id = "point-\(Character(UnicodeScalar(97 + i)!))" }
        report.keyPoints[0].id = report.keyPoints[1].id  // a repeated id still gets a number of its own
        let html = HTMLRenderer.render(report)
        let numbers = html.components(separatedBy: "<span class=\"num\">K").dropFirst()
            .compactMap { Int($0.prefix { $0.isNumber }) }
        let inKeyPoints = Array(numbers.suffix(report.keyPoints.count))
        #expect(Set(inKeyPoints).count == report.keyPoints.count, "\(inKeyPoints)")
    }
}
