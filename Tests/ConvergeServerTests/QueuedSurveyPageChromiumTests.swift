import ConvergeTestSupport
import Foundation
import Testing

/// The live survey page in real headless Chromium for a survey that a real `converge worker` asks (real PostgreSQL,
/// `converge serve --queue`): the page fills in as the worker writes each answer to the database, then shows the
/// report the server made, without a reload, as it does for a survey the server asks itself.
@Suite(.serialized, .enabled(if: PostgresTestCluster.unavailableReason == nil))
struct QueuedSurveyPageChromiumTests {
    @Test func aQueuedSurveysPageFillsInFromTheDatabase() async throws {
        guard Chromium.available else { return }
        let provider = try await ProviderTestServer.start()
        defer { Task { try? await provider.shutdown() } }
        provider.script("alpha", [.answer("Alpha: measure before you cache.", after: "alpha")])
        provider.script("beta", [.answer("Beta: caching needs invalidation.", after: "beta")])
        let cluster = try PostgresTestCluster.shared()
        let name = "qp_" + UUID().uuidString.prefix(8).lowercased()
        try cluster.createDatabase(name)
        let temporary = FileManager.default.temporaryDirectory
        let env = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": temporary.path,
            "XDG_CONFIG_HOME": temporary.appendingPathComponent("no-config").path,
            "XDG_DATA_HOME": temporary.appendingPathComponent("converge-no-models").path, "CONVERGE_OFFLINE": "1",
            "OPENAI_API_KEY": "sk-test-page-key", "OPENAI_BASE_URL": provider.baseURL + "/v1",
            "CONVERGE_DATABASE_URL": cluster.url(database: name),
        ]
        let server = try ServeProcess(arguments: ["--queue"], environment: env)
        defer { server.kill() }
        let base = try await server.waitForURL()
        let created = try await HTTP.send(base + "/v1/surveys", method: .POST, headers: ["Content-Type": "application/json"],
                                          body: try JSONSerialization.data(withJSONObject: [
                                              "prompt": "Should we cache?", "panel": ["openai/alpha", "openai/beta"]]))
        #expect(created.status == 202)
        let id = try #require((try JSONSerialization.jsonObject(with: Data(created.text.utf8)) as? [String: Any])?["id"] as? String)
        var worker: BackgroundProcess?
        defer { if let worker, worker.isRunning { worker.send(SIGKILL) } }

        try await HeadlessBrowser.withBrowser(windowWidth: 1200, height: 1600) { browser in
            let page = try await browser.newPage()
            try await page.navigate(to: URL(string: base + "/surveys/\(id)")!)
            _ = try await page.evaluate("window.__convergeMark = 'same document'; true")
            let article = { (panelist: String) in
                "document.querySelector('article.request[data-turn=\"0\"][data-panelist=\"\(panelist)\"]')"
            }
            try await page.waitUntil("document.getElementById('survey').dataset.connection === 'open'", timeout: .seconds(20))
            // Queued, no worker: nothing is being asked.
            #expect(try await page.evaluate("\(article("alpha")).dataset.state").string == "waiting")

            worker = try BackgroundProcess(ServeProcess.binary, ["worker", "--slots", "2"], environment: env)
            let bothPending = "\(article("alpha")).dataset.state === 'pending' && \(article("beta")).dataset.state === 'pending'"
            try await page.waitUntil(bothPending, timeout: .seconds(30))
            provider.open(gate: "alpha")
            try await page.waitUntil("\(article("alpha")).querySelector('.answer').textContent.startsWith('Alpha: measure')",
                                     timeout: .seconds(20))
            #expect(try await page.evaluate("\(article("beta")).dataset.state").string == "pending")
            #expect(try await page.evaluate("document.getElementById('report').hidden").bool == true)

            provider.open(gate: "beta")
            try await page.waitUntil("document.getElementById('status').textContent === 'complete'", timeout: .seconds(30))
            try await page.waitUntil("""
                (() => { const d = document.getElementById('report-frame').contentDocument;
                         return !document.getElementById('report').hidden && d && d.readyState === 'complete'
                             && d.body.innerText.includes('Should we cache?'); })()
                """, timeout: .seconds(30))
            #expect(try await page.evaluate("window.__convergeMark").string == "same document")
            let problems = page.console.filter { !$0.lowercased().contains("favicon") }
            #expect(problems.isEmpty, "console: \(problems)")
        }
        #expect(provider.requests.count == 2)
        if let worker {
            worker.send(SIGTERM)
            #expect(await worker.wait(timeout: .seconds(20)) == 0)
        }
        #expect(try await server.terminate() == 0)
    }
}
