import ConvergeTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import ConvergeServer

/// The live survey page in real headless Chromium (DevTools protocol, ``HeadlessBrowser``), against a live
/// server on loopback whose panel is a ProviderTestServer that answers only when the test opens a gate:
/// sign in, start a survey from the form (with a rubric file uploaded as a browser does), then watch each
/// answer appear as it arrives and the report at the end, in one document that is never reloaded.
@Suite(.serialized) struct LiveSurveyPageChromiumTests {
    static let hostile = "<img src=x onerror=\"document.title='pwned'\"><script>document.title='pwned'</script>"

    @Test(arguments: TestDatabase.allCases)
    func aSurveyStartedFromTheFormFillsInAsAnswersArriveThenShowsTheReport(_ database: TestDatabase) async throws {
        guard Chromium.available else { return }
        try await withSurveyFixture(database, tokens: [Fixture.token]) { fixture in
            fixture.provider.script("alpha", [.answer("Alpha: measure before you cache. " + Self.hostile, after: "alpha"),
                                              .answer("Alpha again: invalidation is hard."),
                                              .answer("Alpha on TTLs: short ones.", after: "ttl")])
            fixture.provider.script("beta", [.answer("Beta: caching needs invalidation; measure first.", after: "beta"),
                                             .answer("Beta again: measure hit rates."),
                                             .answer("Beta on TTLs: measure them.", after: "ttl")])
            let rubricFile = FileManager.default.temporaryDirectory.appendingPathComponent("converge-rubric-\(UUID().uuidString).yaml")
            try Data(SurveysRouterTests.rubric.utf8).write(to: rubricFile)
            defer { try? FileManager.default.removeItem(at: rubricFile) }
            let screenshot = FileManager.default.temporaryDirectory.appendingPathComponent("converge-live-survey-\(database.rawValue).png")

            // withSurveyFixture closes the store even when a step fails (an open SQLite connection traps when freed).
            try await fixture.app().test(.live) { client in
                let base = "http://127.0.0.1:\(try #require(client.port))"
                try await HeadlessBrowser.withBrowser(windowWidth: 1200, height: 1600) { browser in
                    let page = try await browser.newPage()
                    // Signing in: the start form sends us to /login first, then back.
                    try await page.navigate(to: URL(string: base + "/surveys/new")!)
                    #expect(try await page.evaluate("location.pathname").string == "/login")
                    _ = try await page.evaluate("""
                        document.getElementById('token').value = '\(Fixture.token)';
                        document.querySelector('form').submit();
                        """)
                    try await page.waitUntil("location.pathname === '/surveys/new' && document.readyState === 'complete'",
                                             timeout: .seconds(20))

                    // The start form, filled and submitted as a person would (file chosen through the file input).
                    _ = try await page.evaluate("""
                        document.getElementById('prompt').value = 'Should we cache?';
                        document.getElementById('panel').value = 'openai/alpha\\nopenai/beta';
                        document.getElementById('followUp0').value = 'And when not?';
                        true
                        """)
                    try await page.setFiles([rubricFile.path], on: "#rubric")
                    _ = try await page.evaluate("document.querySelector('form[action=\"/surveys\"]').submit(); true")
                    try await page.waitUntil("/^\\/surveys\\/[a-z0-9]+$/.test(location.pathname) && document.readyState === 'complete'",
                                             timeout: .seconds(20))
                    let id = String(try #require(try await page.evaluate("location.pathname").string).dropFirst("/surveys/".count))

                    // A mark on this document: if the page reloaded, it would be gone.
                    _ = try await page.evaluate("window.__convergeMark = 'same document'; true")
                    let article = { (panelist: String, turn: Int) in
                        "document.querySelector('article.request[data-turn=\"\(turn)\"][data-panelist=\"\(panelist)\"]')"
                    }
                    try await page.waitUntil("document.getElementById('survey').dataset.connection === 'open'", timeout: .seconds(20))
                    let bothPending = "\(article("alpha", 0)).dataset.state === 'pending' && \(article("beta", 0)).dataset.state === 'pending'"
                    try await page.waitUntil(bothPending, timeout: .seconds(20))
                    #expect(try await page.evaluate("document.getElementById('status').textContent").string == "running")

                    // Alpha answers: its text appears, beta is still waiting, nothing in the answer ran.
                    fixture.provider.open(gate: "alpha")
                    try await page.waitUntil("\(article("alpha", 0)).querySelector('.answer').textContent.startsWith('Alpha: measure')",
                                             timeout: .seconds(20))
                    #expect(try await page.evaluate("\(article("beta", 0)).dataset.state").string == "pending")
                    #expect(try await page.evaluate("\(article("beta", 0)).querySelector('.answer').hidden").bool == true)
                    let hostileAsText = "\(article("alpha", 0)).querySelector('.answer').textContent.includes('<img src=x')"
                    #expect(try await page.evaluate(hostileAsText).bool == true)
                    #expect(try await page.evaluate("document.querySelectorAll('article img, article script').length").int == 0)
                    #expect(try await page.evaluate("document.getElementById('report').hidden").bool == true)
                    #expect(try await page.evaluate("window.__convergeMark").string == "same document")

                    // Beta answers; both follow-ups follow; the survey completes and the report appears in place.
                    fixture.provider.open(gate: "beta")
                    try await page.waitUntil("\(article("beta", 1)).querySelector('.answer').textContent === 'Beta again: measure hit rates.'",
                                             timeout: .seconds(30))
                    try await page.waitUntil("document.getElementById('status').textContent === 'complete'", timeout: .seconds(30))
                    try await page.waitUntil("""
                        (() => { const d = document.getElementById('report-frame').contentDocument;
                                 return !document.getElementById('report').hidden && d && d.readyState === 'complete'
                                     && d.body.innerText.includes('Measure before caching'); })()
                        """, timeout: .seconds(30))
                    #expect(try await page.evaluate("window.__convergeMark").string == "same document")
                    #expect(try await page.evaluate("location.pathname").string == "/surveys/\(id)")
                    #expect(try await page.evaluate("document.title").string != "pwned")
                    #expect(try await page.evaluate("document.getElementById('after').hidden").bool == false)
                    // The report frame is sized to its content.
                    #expect((try await page.evaluate("document.getElementById('report-frame').offsetHeight").double ?? 0) > 1000)

                    let png = try await page.screenshot()
                    try png.write(to: screenshot)
                    let size = try #require(Chromium.pngSize(png))
                    #expect(size.width > 0 && size.height > 0)
                    #expect(png.count > 10_000)

                    // A follow-up from the page's form: the old report is hidden while the new turn is asked, and the
                    // new report (of the follow-up) replaces it at the end.
                    _ = try await page.evaluate("""
                        document.getElementById('followUp').value = 'What about TTLs?';
                        document.querySelector('#after form').submit(); true
                        """)
                    try await page.waitUntil("document.readyState === 'complete' && document.querySelectorAll('section.turn').length === 3",
                                             timeout: .seconds(20))
                    let runningWithoutReport = "document.getElementById('status').textContent === 'running' "
                        + "&& document.getElementById('report').hidden"
                    try await page.waitUntil(runningWithoutReport, timeout: .seconds(20))
                    fixture.provider.open(gate: "ttl")
                    try await page.waitUntil("""
                        (() => { const d = document.getElementById('report-frame').contentDocument;
                                 return document.getElementById('status').textContent === 'complete'
                                     && !document.getElementById('report').hidden && d && d.readyState === 'complete'
                                     && d.body.innerText.includes('What about TTLs?'); })()
                        """, timeout: .seconds(30))

                    let problems = page.console.filter { !$0.lowercased().contains("favicon") }
                    #expect(problems.isEmpty, "console: \(problems)")
                }
            }
            // The rubric went through the browser's upload into the stored survey's report.
            let stored = try await fixture.store.surveys(limit: 1, offset: 0)
            #expect(stored.first?.status == .complete)
            #expect(fixture.provider.requests.count == 6)
        }
    }
}
