import ConvergeTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Runs `body` with a fresh loopback server and a page of a fresh browser; both are closed however it ends.
private func withServedPage<T: Sendable>(
    _ body: (LoopbackPageServer, HeadlessBrowser, BrowserPage) async throws -> T
) async throws -> T {
    let server = try await LoopbackPageServer.start()
    do {
        let result = try await HeadlessBrowser.withBrowser(windowWidth: 800, height: 600) { browser in
            try await body(server, browser, try await browser.newPage())
        }
        await server.shutdown()
        return result
    } catch {
        await server.shutdown()
        throw error
    }
}

/// The error `body` throws, or `nil` when it returns.
private func thrownError(_ body: () async throws -> Void) async -> (any Error)? {
    do { try await body() } catch { return error }
    return nil
}

/// Polls `condition` every 50 ms for up to `seconds`.
private func eventually(_ seconds: Double, _ condition: () -> Bool) async throws -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        try await Task.sleep(for: .milliseconds(50))
    }
    return condition()
}

@Suite(.serialized, .enabled(if: Chromium.available, "chromium is not installed: headless browser tests SKIPPED"))
struct HeadlessBrowserTests {
    @Test func navigatesToLoopbackAndSeesTheTimerChangeTheLivePage() async throws {
        try await withServedPage { server, _, page in
            try await page.navigate(to: server.baseURL)
            #expect(try await page.evaluate("document.title") == .string("CDP test page"))
            #expect(try await page.url() == server.baseURL)
            // The timer fires 1 s after load: right after navigate the page still says "waiting".
            #expect(try await page.evaluate("document.getElementById('status').textContent") == .string("waiting"))
            #expect(try await page.evaluate("window.convergeMarker = 42") == .number(42))
            let start = ContinuousClock.now
            try await page.waitUntil("document.getElementById('status').textContent === 'changed by timer'",
                                     timeout: .seconds(10))
            #expect(ContinuousClock.now - start > .milliseconds(300))
            // Same document: the marker survived and the page was requested once (no reload).
            #expect(try await page.evaluate("window.convergeMarker") == .number(42))
            #expect(server.requestedPaths.filter { $0 == "/" }.count == 1)
        }
    }

    @Test func recordsConsoleErrorsAndUncaughtExceptionsAndTakesScreenshots() async throws {
        try await withServedPage { server, _, page in
            try await page.navigate(to: server.baseURL)
            let seen = try await eventually(5) {
                page.console.contains("error: page error marker")
                    && page.console.contains { $0.hasPrefix("uncaught: ") && $0.contains("uncaught marker") }
            }
            #expect(seen, "console: \(page.console)")
            _ = try await page.evaluate("console.warn('two', 2, {a: 1}); console.log('plain')")
            #expect(try await eventually(5) { page.console.contains("warning: two 2 Object") && page.console.contains("log: plain") },
                    "console: \(page.console)")

            let png = try await page.screenshot()
            let size = try #require(Chromium.pngSize(png), "not a PNG")
            #expect(size.width == 800 && size.height > 0, "\(size)")
        }
    }

    @Test func onlyLoopbackIsReachable() async throws {
        try await withServedPage { server, _, page in
            try await page.navigate(to: server.baseURL)
            // no-cors: a reachable host would resolve (opaque response); only a network failure rejects.
            let outside = try await page.evaluate(
                "fetch('http://example.com/', {mode: 'no-cors'}).then(() => 'resolved', e => 'rejected: ' + e.message)")
            #expect(outside.string?.hasPrefix("rejected: ") == true, "\(outside)")
            // localhost is not proxied (loopback bypass), so only the resolver rule stops it, though the server
            // listens on 127.0.0.1: no name resolves, loopback names included.
            let byName = try await page.evaluate(
                "fetch('http://localhost:\(server.port)/data', {mode: 'no-cors'}).then(() => 'resolved', e => 'rejected: ' + e.message)")
            #expect(byName.string?.hasPrefix("rejected: ") == true, "\(byName)")
            let inside = try await page.evaluate("fetch('/data').then(r => r.text())")
            #expect(inside == .string("loopback data"))
            #expect(server.requestedPaths.contains("/data"))

            let error = await thrownError { try await page.navigate(to: URL(string: "http://example.com/")!, timeout: .seconds(15)) }
            guard case .navigationFailed(_, let reason)? = error as? HeadlessBrowserError else {
                Issue.record("navigating off the machine did not fail: \(String(describing: error))")
                return
            }
            print("navigation to example.com: \(reason); console: \(page.console)")
            #expect(reason.hasPrefix("net::ERR_"))
        }
    }

    @Test func scriptErrorsAndStalledLoadsFailClearly() async throws {
        try await withServedPage { server, _, page in
            try await page.navigate(to: server.baseURL)
            let thrown = await thrownError { _ = try await page.evaluate("throw new Error('boom from script')") }
            guard case .javaScript(let text)? = thrown as? HeadlessBrowserError else {
                Issue.record("no JavaScript error: \(String(describing: thrown))")
                return
            }
            #expect(text.contains("boom from script"))
            let rejected = await thrownError { _ = try await page.evaluate("Promise.reject(new Error('rejected promise'))") }
            #expect((rejected as? HeadlessBrowserError)?.description.contains("rejected promise") == true, "\(String(describing: rejected))")

            let start = ContinuousClock.now
            let hang = server.baseURL.appendingPathComponent("hang")
            let stalled = await thrownError { try await page.navigate(to: hang, timeout: .seconds(3)) }
            let elapsed = ContinuousClock.now - start
            guard case .timeout(let message)? = stalled as? HeadlessBrowserError else {
                Issue.record("a page that never finishes loading did not time out: \(String(describing: stalled))")
                return
            }
            #expect(message.contains("/hang"), "\(message)")
            #expect(elapsed >= .seconds(3) && elapsed < .seconds(8), "\(elapsed)")
            #expect(server.requestedPaths.contains("/hang"))
            // The page is still usable afterwards.
            #expect(try await page.evaluate("1 + 1") == .number(2))

            let waited = await thrownError { try await page.waitUntil("window.neverSet === true", timeout: .milliseconds(500)) }
            #expect((waited as? HeadlessBrowserError)?.description.contains("window.neverSet === true") == true,
                    "\(String(describing: waited))")
        }
    }

    @Test func closeLeavesNoProcessAndNoProfile() async throws {
        let server = try await LoopbackPageServer.start()
        do {
            try await checkClose(server)
            await server.shutdown()
        } catch {
            await server.shutdown()
            throw error
        }
    }

    private func checkClose(_ server: LoopbackPageServer) async throws {
        let browser = try await HeadlessBrowser.launch(windowWidth: 800, height: 600)
        let pid = browser.processID
        let page = try await browser.newPage()
        try await page.navigate(to: server.baseURL)
        #expect(kill(pid, 0) == 0)
        await browser.close()
        // Reaped: the pid no longer exists, nor does any process of its group (renderers, GPU, zygote).
        let processGone = kill(pid, 0) == -1 && errno == ESRCH
        let groupGone = kill(-pid, 0) == -1 && errno == ESRCH
        var status: Int32 = 0
        let alreadyReaped = waitpid(pid, &status, WNOHANG) == -1 && errno == ECHILD
        #expect(processGone)
        #expect(groupGone)
        #expect(alreadyReaped)
        #expect(!FileManager.default.fileExists(atPath: browser.profileDirectory.path))
        // Commands to a closed browser fail at once; closing again does nothing.
        let error = await thrownError { _ = try await page.evaluate("1") }
        guard case .closed? = error as? HeadlessBrowserError else {
            Issue.record("a command after close did not fail as closed: \(String(describing: error))")
            return
        }
        await browser.close()
    }

    @Test func aBrowserDroppedWithoutCloseIsKilledAndReaped() async throws {
        var browser: HeadlessBrowser? = try await HeadlessBrowser.launch()
        let pid = try #require(browser?.processID)
        let profile = try #require(browser?.profileDirectory)
        #expect(kill(pid, 0) == 0)
        browser = nil  // last reference: deinit kills the process group, reaps the browser, removes the profile
        let processGone = kill(pid, 0) == -1 && errno == ESRCH
        #expect(processGone)
        #expect(!FileManager.default.fileExists(atPath: profile.path))
    }

    @Test func aBrowserThatDiesFailsCommandsInsteadOfHanging() async throws {
        let start = ContinuousClock.now
        let error = await thrownError {
            try await HeadlessBrowser.withBrowser { browser in
                let page = try await browser.newPage()
                kill(-browser.processID, SIGKILL)
                _ = try await page.evaluate("new Promise(() => {})", timeout: .seconds(30))
            }
        }
        guard case .closed? = error as? HeadlessBrowserError else {
            Issue.record("a dead browser did not fail the command as closed: \(String(describing: error))")
            return
        }
        #expect(ContinuousClock.now - start < .seconds(20))
    }
}
