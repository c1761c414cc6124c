import ConvergeAnalysis
import ConvergeCore
import ConvergeTestSupport
import Foundation
import Testing

@testable import ConvergeReport

/// The HTML report in a real browser: headless Chromium (see `Chromium`). Skipped, loudly, when chromium is
/// not installed; scripts/test installs it.
@Suite(.serialized, .enabled(if: Chromium.available, "chromium is not installed: HTML browser tests SKIPPED"))
struct HTMLChromiumTests {
    /// Pages and screenshots of the last run, kept for a person to look at (overwritten by the next run).
    let folder: URL

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("converge-html-screenshots")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    func write(_ html: String, _ name: String) throws -> URL {
        let file = folder.appendingPathComponent(name)
        try Data(html.utf8).write(to: file)
        return file
    }

    /// The serialized `<title>` text Chromium reports for a page whose title is `text`.
    func serializedTitle(_ text: String) -> String {
        "<title>" + text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;") + "</title>"
    }

    /// The text of a PDF file, by `pdftotext` (Debian package poppler-utils); `nil`, with a loud message, when
    /// it is not installed.
    func pdfText(_ pdf: URL) throws -> String? {
        guard let tool = ["/usr/bin/pdftotext", "/usr/local/bin/pdftotext"].first(where: {
            FileManager.default.isExecutableFile(atPath: $0)
        }) else {
            print("*** SKIPPING the check of the printed HTML report: pdftotext is not installed (apt-get install poppler-utils) ***")
            return nil
        }
        let text = folder.appendingPathComponent(pdf.deletingPathExtension().lastPathComponent + ".txt")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = [pdf.path, text.path]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw Chromium.Failure(description: "pdftotext failed on \(pdf.path)") }
        return try String(contentsOf: text, encoding: .utf8)
    }

    /// Signs that a payload of `HostileReport` ran or became markup, found in a DOM dump. (In the dump, text
    /// has `<`, `>` and `&` escaped but not quotes, and attributes are written `name="value"`.)
    func ranScript(_ dom: String) -> [String] {
        var signs: [String] = []
        if dom.contains("data-pwned=\"") { signs.append("data-pwned attribute set") }
        if dom.contains("<title>PWNED</title>") { signs.append("title set to PWNED") }
        for element in ["<script", "<img", "<iframe", "<svg onload", "<a href=\"javascript", "<b title"] where dom.contains(element) {
            signs.append("element \(element) in the DOM")
        }
        return signs
    }

    @Test func theChecksDetectAConsoleErrorAndAScriptThatRuns() throws {
        // A page with an error: its console messages are seen.
        let broken = try write("""
            <!DOCTYPE html><html><head><meta charset="utf-8"><title>broken</title></head>
            <body><p>x</p><script>console.error("deliberate error"); undefinedFunction();</script></body></html>
            """, "broken.html")
        let errors = try Chromium.dumpDOM(broken).console
        #expect(errors.contains { $0.contains("deliberate error") })
        #expect(errors.contains { $0.contains("undefinedFunction is not defined") })

        // The hostile payloads pasted in raw (what escaping prevents): they run, and the checks see it.
        let raw = try write("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>raw</title></head><body>"
            + HostileReport.payloads.joined(separator: "\n") + "</body></html>", "raw.html")
        let dom = try Chromium.dumpDOM(raw).output
        #expect(dom.contains("data-pwned=\""))
        #expect(dom.contains("<title>PWNED</title>"))
        #expect(!ranScript(dom).isEmpty)
    }

    @Test func seniorBackendPageRendersCleanly() throws {
        let report = try seniorBackendHTMLReport().report
        let page = try write(HTMLRenderer.render(report), "senior-backend.html")
        let result = try Chromium.dumpDOM(page)
        #expect(result.console == [], "console messages: \(result.console)")
        for section in ["prompt", "panel", "convergence", "omissions", "rubric", "heatmap", "key-points", "terms",
                        "conflicts", "answers"] {
            #expect(result.output.contains("<section id=\"\(section)\""), "section \(section) missing from the DOM")
        }
        #expect(result.output.contains("Nobody mentioned:"))
        #expect(ranScript(result.output).isEmpty)
        #expect(!result.output.contains("<details class=\"kp\" open"))

        // Following a link to a key point (from the heatmap or an answer) opens it.
        let linked = try Chromium.dumpDOM(URL(string: page.absoluteString + "#kp-3")!).output
        // K3 is kp-3 of the JSON report, wherever its group puts it on the page.
        let third = linked.components(separatedBy: "<details class=\"kp\"").first { $0.contains("id=\"kp-3\"") } ?? ""
        #expect(third.hasPrefix(" open=\"\""), "K3 is not open after following #kp-3")
        #expect(third.contains("<span class=\"num\">K3</span>"))
        #expect(linked.components(separatedBy: "<details class=\"kp\" open").count - 1 == 1)

        // A screenshot, kept for a person to look at.
        let png = folder.appendingPathComponent("senior-backend.png")
        try? FileManager.default.removeItem(at: png)
        let shot = try Chromium.screenshot(page, to: png, width: 1280, height: 2400)
        #expect(shot.console == [])
        let data = try Data(contentsOf: png)
        let size = try #require(Chromium.pngSize(data), "not a PNG: \(png.path)")
        #expect(size.width == 1280 && size.height == 2400)
        #expect(data.count > 50_000, "a blank page would compress to a few kB; got \(data.count) bytes")
        print("HTML report screenshot: \(png.path) (\(size.width)x\(size.height), \(data.count) bytes)")

        // It prints: a PDF of several pages.
        let pdf = folder.appendingPathComponent("senior-backend.pdf")
        try? FileManager.default.removeItem(at: pdf)
        #expect(try Chromium.printToPDF(page, to: pdf).console == [])
        let pdfData = try Data(contentsOf: pdf)
        #expect(pdfData.starts(with: Data("%PDF".utf8)))
        #expect(pdfData.count > 20_000)
        // In print every key point is expanded (its rubric item line is inside the closed <details>) and the
        // navigation and jump links are hidden.
        if let text = try pdfText(pdf) {
            let expanded = text.components(separatedBy: "Rubric item:").count - 1
            #expect(expanded == report.keyPoints.filter { $0.rubricItem != nil }.count, "key points expanded in print: \(expanded)")
            #expect(!text.contains("in the answer ↓") && !text.contains("Prompt Panel Convergence"))
            #expect(text.contains("Nobody mentioned: AI in the workflow"))
        }
        print("HTML report PDF: \(pdf.path) (\(pdfData.count) bytes)")
    }

    /// Five panelists, no rubric: a real AlpacaEval prompt (../shared/corpus, read in place).
    @Test func fivePanelistAlpacaEvalPageRendersCleanly() throws {
        struct Output: Decodable { var instruction: String; var output: String }
        let corpus = ProcessInfo.processInfo.environment["CONVERGE_CORPUS"].map { URL(fileURLWithPath: $0) }
            ?? Repo.root.deletingLastPathComponent().appendingPathComponent("shared/corpus")
        let models = ["claude-3-5-sonnet-20240620", "gpt-4o-2024-05-13", "Meta-Llama-3.1-405B-Instruct-Turbo",
                      "mistral-large-2402", "Qwen2-72B-Instruct"]
        let prompt = 200  // "what are five important topics for game design"
        let outputs = try models.map { model in
            try JSONDecoder().decode([Output].self, from: Data(contentsOf: corpus.appendingPathComponent("alpaca-eval/\(model).json")))[prompt]
        }
        let input = AnalysisInput(prompt: outputs[0].instruction, answers: zip(models, outputs).map {
            Answer(panelist: Panelist(id: $0), text: $1.output)
        }, rubric: nil)
        let report = Analyzer().analyze(input).attachingAnswers(input.answers)
        let page = try write(HTMLRenderer.render(report), "alpaca-\(prompt).html")
        let result = try Chromium.dumpDOM(page)
        #expect(result.console == [], "console messages: \(result.console)")
        // No rubric: key points grouped under the themes the analysis found (3 to 8), each a heading.
        let themes = Set(report.keyPoints.compactMap(\.category))
        #expect(!result.output.contains("<section id=\"rubric\""))
        #expect((3...8).contains(themes.count), "themes: \(themes)")
        for theme in themes { #expect(result.output.contains("<h3>\(HTMLEscaping.text(theme))</h3>"), "\(theme)") }
        #expect(result.output.components(separatedBy: "<article class=\"answer\"").count - 1 == 5)
        let png = folder.appendingPathComponent("alpaca-\(prompt).png")
        try? FileManager.default.removeItem(at: png)
        #expect(try Chromium.screenshot(page, to: png, width: 1280, height: 2400).console == [])
        let size = try #require(Chromium.pngSize(try Data(contentsOf: png)))
        #expect(size.width == 1280 && size.height == 2400)
        print("HTML report screenshot: \(png.path)")
    }

    @Test func hostileAnswersAreShownAsTextAndNothingRuns() throws {
        let report = HostileReport.report()
        let html = HTMLRenderer.render(report)
        let title = "Converge report: " + MarkdownRenderer.shorten(MarkdownRenderer.fold(report.prompt!), limit: 80)
        // As rendered, and with the Content-Security-Policy removed, so that escaping alone is what is tested.
        let csp = #"<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">"#
        #expect(html.contains(csp))
        for (name, page) in [("hostile.html", html), ("hostile-no-csp.html", html.replacingOccurrences(of: csp, with: ""))] {
            let result = try Chromium.dumpDOM(try write(page, name))
            let dom = result.output
            #expect(result.console == [], "\(name): console messages: \(result.console)")
            #expect(ranScript(dom) == [], "\(name)")
            #expect(dom.contains(serializedTitle(title)), "\(name): the title changed")
            // The payloads are in the page as text (the DOM serializer escapes <, > and & in text).
            for payload in HostileReport.payloads {
                let text = payload.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                    .replacingOccurrences(of: ">", with: "&gt;")
                #expect(dom.contains(text), "\(name): payload not shown as text: \(payload)")
            }
            #expect(!dom.contains("<a href=\"javascript"))
        }
    }
}
