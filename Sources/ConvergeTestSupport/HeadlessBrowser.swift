import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A live headless Chromium for tests, driven over the Chrome DevTools Protocol (CDP,
/// https://chromedevtools.github.io/devtools-protocol/) on a pipe: with `--remote-debugging-pipe` the browser
/// reads commands from its file descriptor 3 and writes replies and events to its descriptor 4, each message
/// one JSON object followed by a NUL byte.
///
/// The browser is the one ``Chromium`` finds (`$CONVERGE_CHROMIUM`, else `chromium`... on `PATH`), with the same
/// isolation (``Chromium/isolationArguments``: only `http://127.0.0.1:PORT/` is reachable), a throwaway
/// `--user-data-dir` that ``close()`` removes, and its own process group so that closing ends its helper
/// processes too.
///
/// Always close the browser: use ``withBrowser(windowWidth:height:_:)``, which closes it whether the body
/// returns or throws. A browser dropped without ``close()`` is killed (SIGKILL to its process group), reaped and
/// its profile removed when the last reference goes away, so a failing test does not leave chromium running.
///
/// ```swift
/// try await HeadlessBrowser.withBrowser { browser in
///     let page = try await browser.newPage()
///     try await page.navigate(to: URL(string: "http://127.0.0.1:\(port)/")!)
///     try await page.waitUntil("document.querySelector('#done') !== null", timeout: .seconds(5))
/// }
/// ```
///
/// Every wait has a timeout; a command to a browser that has exited fails with ``HeadlessBrowserError/closed(_:)``.
package final class HeadlessBrowser: Sendable {
    /// The browser's process id (also its process group id).
    package let processID: pid_t
    /// The throwaway profile folder (`--user-data-dir`) and the browser's log (`chromium.log`, its stderr).
    package let profileDirectory: URL
    let connection: CDPConnection
    private let closed = Mutex(false)

    private init(processID: pid_t, profileDirectory: URL, connection: CDPConnection) {
        self.processID = processID
        self.profileDirectory = profileDirectory
        self.connection = connection
    }

    deinit {
        // Safety net for a browser that was never closed: no await possible here, so kill, reap, remove.
        let wasClosed = closed.withLock { $0 }
        if !wasClosed {
            kill(-processID, SIGKILL)
            kill(processID, SIGKILL)
            var status: Int32 = 0
            _ = waitpid(processID, &status, 0)
            connection.shutDown(reason: "the browser was dropped without close()")
            try? FileManager.default.removeItem(at: profileDirectory)
        }
    }

    /// Launches chromium with a `windowWidth` x `windowHeight` (CSS pixels) window and waits (up to `timeout`)
    /// until it answers on the DevTools pipe. (The viewport is the window less headless chrome's frame: 800 x 600
    /// gives 800 x 513 screenshots with Chromium 156.) Sets SIGPIPE to ignored in the test process, so that a write
    /// to a browser that died fails with EPIPE instead of killing the process.
    ///
    /// - Throws: ``HeadlessBrowserError/notInstalled`` when there is no chromium, ``HeadlessBrowserError/launchFailed(_:)``
    ///   when it cannot be started or does not answer (with the tail of its log).
    package static func launch(windowWidth: Int = 1280, height windowHeight: Int = 800,
                              timeout: Duration = .seconds(30)) async throws -> HeadlessBrowser {
        guard let executable = Chromium.executable else { throw HeadlessBrowserError.notInstalled }
        // A write to the pipe of a browser that died must fail with EPIPE, not kill the test process.
        signal(SIGPIPE, SIG_IGN)
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("converge-cdp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: profile.appendingPathComponent("profile"),
                                                withIntermediateDirectories: true)
        let logPath = profile.appendingPathComponent("chromium.log").path
        let arguments = [executable] + Chromium.isolationArguments + [
            "--user-data-dir=\(profile.appendingPathComponent("profile").path)",
            "--remote-debugging-pipe", "--window-size=\(windowWidth),\(windowHeight)", "--hide-scrollbars",
            "--enable-logging=stderr", "--v=0", "about:blank",
        ]

        // toBrowser: we write [1], chromium reads [0] as fd 3. fromBrowser: chromium writes [1] as fd 4, we read [0].
        var toBrowser: [Int32] = [-1, -1], fromBrowser: [Int32] = [-1, -1]
        guard closeOnExecPipe(&toBrowser) else {
            try? FileManager.default.removeItem(at: profile)
            throw HeadlessBrowserError.launchFailed("pipe: \(errorText(errno))")
        }
        guard closeOnExecPipe(&fromBrowser) else {
            closeFD(toBrowser[0]); closeFD(toBrowser[1])
            try? FileManager.default.removeItem(at: profile)
            throw HeadlessBrowserError.launchFailed("pipe: \(errorText(errno))")
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        // dup2 clears close-on-exec on the new descriptor; the originals (O_CLOEXEC) close at exec.
        posix_spawn_file_actions_adddup2(&actions, toBrowser[0], 3)
        posix_spawn_file_actions_adddup2(&actions, fromBrowser[1], 4)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Own process group (pgid = pid), so close() can signal the browser and all its helpers at once.
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)

        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        let environment: [UnsafeMutablePointer<CChar>?] =
            ProcessInfo.processInfo.environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in argv + environment { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, &attributes, argv, environment)
        closeFD(toBrowser[0])
        closeFD(fromBrowser[1])
        guard spawned == 0 else {
            closeFD(toBrowser[1]); closeFD(fromBrowser[0])
            try? FileManager.default.removeItem(at: profile)
            throw HeadlessBrowserError.launchFailed("posix_spawn \(executable): \(errorText(spawned))")
        }

        let connection = CDPConnection(writeFD: toBrowser[1], readFD: fromBrowser[0])
        connection.startReading()
        let browser = HeadlessBrowser(processID: pid, profileDirectory: profile, connection: connection)
        do {
            _ = try await connection.send("Browser.getVersion", timeout: timeout)
        } catch {
            let log = browser.logTail(at: logPath)
            await browser.close()
            throw HeadlessBrowserError.launchFailed("chromium did not answer on the DevTools pipe (\(error)); log:\n" + log)
        }
        return browser
    }

    /// Launches a browser, runs `body` with it and closes it, whether `body` returns or throws.
    package static func withBrowser<T: Sendable>(
        windowWidth: Int = 1280, height: Int = 800,
        _ body: (HeadlessBrowser) async throws -> T
    ) async throws -> T {
        let browser = try await launch(windowWidth: windowWidth, height: height)
        do {
            let result = try await body(browser)
            await browser.close()
            return result
        } catch {
            await browser.close()
            throw error
        }
    }

    /// Opens a new tab on `about:blank` and attaches to it (flat session), with the Page, Runtime and Log
    /// domains enabled so that load events and console messages are recorded from the start.
    ///
    /// - Throws: ``HeadlessBrowserError`` when the browser fails, has exited, or does not answer within `timeout`.
    package func newPage(timeout: Duration = .seconds(10)) async throws -> BrowserPage {
        let created = try await connection.send("Target.createTarget", ["url": .string("about:blank")], timeout: timeout)
        guard let targetID = created["targetId"]?.string else {
            throw HeadlessBrowserError.protocolError(method: "Target.createTarget", message: "no targetId in \(created)")
        }
        let attached = try await connection.send("Target.attachToTarget",
                                                 ["targetId": .string(targetID), "flatten": .bool(true)], timeout: timeout)
        guard let sessionID = attached["sessionId"]?.string else {
            throw HeadlessBrowserError.protocolError(method: "Target.attachToTarget", message: "no sessionId in \(attached)")
        }
        connection.openSession(sessionID)
        for domain in ["Page", "Runtime", "Log"] {
            _ = try await connection.send("\(domain).enable", session: sessionID, timeout: timeout)
        }
        return BrowserPage(connection: connection, targetID: targetID, sessionID: sessionID)
    }

    /// Closes the browser: `Browser.close`, then waits up to `timeout` for it to exit, SIGKILLs its process group
    /// (the browser if it has not exited, and any helper left), reaps the browser, waits up to 5 s more for the
    /// group to be gone, and removes the profile. Calling it again does nothing.
    package func close(timeout: Duration = .seconds(10)) async {
        let first = closed.withLock { wasClosed in
            defer { wasClosed = true }
            return !wasClosed
        }
        guard first else { return }
        _ = try? await connection.send("Browser.close", timeout: .seconds(5))
        let deadline = ContinuousClock.now + timeout
        var status: Int32 = 0
        var reaped = false
        while ContinuousClock.now < deadline {
            let result = waitpid(processID, &status, WNOHANG)
            if result == processID || (result == -1 && errno == ECHILD) { reaped = true; break }
            try? await Task.sleep(for: .milliseconds(50))
        }
        // Any helper still alive (or the browser itself, if it ignored Browser.close) dies now.
        kill(-processID, SIGKILL)
        if !reaped {
            kill(processID, SIGKILL)
            _ = waitpid(processID, &status, 0)
        }
        // Helpers are reparented to init once the browser exits; wait (bounded) until init has reaped them, so
        // that after close() no process of the group exists.
        let groupDeadline = ContinuousClock.now + .seconds(5)
        while kill(-processID, 0) == 0, ContinuousClock.now < groupDeadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        connection.shutDown(reason: "the browser was closed")
        try? FileManager.default.removeItem(at: profileDirectory)
    }

    private func logTail(at path: String) -> String {
        guard let data = FileManager.default.contents(atPath: path) else { return "(no log)" }
        return String(decoding: data.suffix(3000), as: UTF8.self)
    }
}

/// Why a ``HeadlessBrowser`` or ``BrowserPage`` operation failed.
package enum HeadlessBrowserError: Error, CustomStringConvertible, Equatable {
    /// No chromium executable (see ``Chromium/executable``).
    case notInstalled
    /// Chromium could not be started or did not answer; the text includes the tail of its log.
    case launchFailed(String)
    /// The browser has exited or was closed; pending and later commands fail with this.
    case closed(String)
    /// A wait ran out of time; the text says what was awaited.
    case timeout(String)
    /// Chromium answered a command with an error.
    case protocolError(method: String, message: String)
    /// Chromium could not navigate (e.g. `net::ERR_NAME_NOT_RESOLVED`).
    case navigationFailed(url: String, reason: String)
    /// The evaluated script threw, or its promise rejected; the exception's text.
    case javaScript(String)

    package var description: String {
        switch self {
        case .notInstalled: return "chromium is not installed (apt-get install chromium, or set CONVERGE_CHROMIUM)"
        case .launchFailed(let text): return "chromium failed to start: \(text)"
        case .closed(let reason): return "chromium is gone: \(reason)"
        case .timeout(let text): return "timed out: \(text)"
        case .protocolError(let method, let message): return "DevTools command \(method) failed: \(message)"
        case .navigationFailed(let url, let reason): return "navigation to \(url) failed: \(reason)"
        case .javaScript(let text): return "JavaScript error: \(text)"
        }
    }
}
