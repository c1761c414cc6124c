import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// The C calls under names that no member shadows (`HeadlessBrowser.close`).
private func closeFD(_ fd: Int32) { _ = close(fd) }
private func sysRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int { read(fd, buffer, count) }
private func sysWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int { write(fd, buffer, count) }
private func errorText(_ code: Int32) -> String { String(cString: strerror(code)) }

/// A pipe whose both ends close on exec (pipe2 is not exported to Swift; the window between pipe and fcntl
/// only matters to a concurrent fork elsewhere in the test process, which would hold an extra end briefly).
private func closeOnExecPipe(_ fds: inout [Int32]) -> Bool {
    guard pipe(&fds) == 0 else { return false }
    for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
    return true
}

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

/// One tab of a ``HeadlessBrowser``, attached over a flat CDP session.
package final class BrowserPage: Sendable {
    let connection: CDPConnection
    /// The CDP target id of the tab.
    package let targetID: String
    /// The CDP session id the page's commands are sent on.
    package let sessionID: String

    init(connection: CDPConnection, targetID: String, sessionID: String) {
        self.connection = connection
        self.targetID = targetID
        self.sessionID = sessionID
    }

    /// Navigates to `url` and waits for its load event (`Page.loadEventFired`: the document and its
    /// subresources loaded).
    ///
    /// - Throws: ``HeadlessBrowserError/navigationFailed(url:reason:)`` when Chromium reports an error (e.g.
    ///   `net::ERR_NAME_NOT_RESOLVED`), ``HeadlessBrowserError/timeout(_:)`` when the page has not loaded within
    ///   `timeout` (loading is then stopped).
    package func navigate(to url: URL, timeout: Duration = .seconds(30)) async throws {
        let start = ContinuousClock.now
        let loadsBefore = connection.loadCount(sessionID)
        let result: JSONValue
        do {
            result = try await connection.send("Page.navigate", ["url": .string(url.absoluteString)],
                                               session: sessionID, timeout: timeout)
        } catch HeadlessBrowserError.timeout {
            _ = try? await connection.send("Page.stopLoading", session: sessionID, timeout: .seconds(2))
            throw HeadlessBrowserError.timeout("navigation to \(url.absoluteString) got no response within \(timeout)")
        }
        if let errorText = result["errorText"]?.string {
            throw HeadlessBrowserError.navigationFailed(url: url.absoluteString, reason: errorText)
        }
        while connection.loadCount(sessionID) == loadsBefore {
            try connection.checkOpen()
            if ContinuousClock.now - start > timeout {
                _ = try? await connection.send("Page.stopLoading", session: sessionID, timeout: .seconds(2))
                throw HeadlessBrowserError.timeout("\(url.absoluteString) did not finish loading (no load event) within \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Evaluates `javaScript` in the page (`Runtime.evaluate`, awaiting a returned promise) and returns its
    /// value as JSON (`undefined` and values that have no JSON form are `.null`; numbers are `.number`).
    ///
    /// - Throws: ``HeadlessBrowserError/javaScript(_:)`` with the exception's text when the script throws or the
    ///   promise rejects; ``HeadlessBrowserError/timeout(_:)`` after `timeout`.
    package func evaluate(_ javaScript: String, timeout: Duration = .seconds(10)) async throws -> JSONValue {
        let reply = try await connection.send(
            "Runtime.evaluate",
            ["expression": .string(javaScript), "returnByValue": .bool(true), "awaitPromise": .bool(true)],
            session: sessionID, timeout: timeout)
        if let details = reply["exceptionDetails"] {
            let text = details["exception"]?["description"]?.string
                ?? details["exception"]?["value"].map { "\($0)" }
                ?? details["text"]?.string ?? "\(details)"
            throw HeadlessBrowserError.javaScript(text)
        }
        return reply["result"]?["value"] ?? .null
    }

    /// Polls `condition` (a JavaScript expression, taken as truthy/falsy) every 100 ms until it is true.
    /// Observes the live page: nothing is reloaded.
    ///
    /// - Throws: ``HeadlessBrowserError/timeout(_:)`` naming the condition, the last evaluation error if any,
    ///   and the first 500 characters of the page's `document.body.innerText`.
    package func waitUntil(_ condition: String, timeout: Duration = .seconds(10)) async throws {
        let deadline = ContinuousClock.now + timeout
        var lastError: (any Error)?
        while true {
            try connection.checkOpen()
            do {
                let remaining = max(deadline - ContinuousClock.now, .milliseconds(500))
                if try await evaluate("!!(\(condition))", timeout: min(remaining, .seconds(5))) == .bool(true) { return }
                lastError = nil
            } catch HeadlessBrowserError.closed(let reason) {
                throw HeadlessBrowserError.closed(reason)
            } catch {
                lastError = error  // e.g. the context was replaced by a navigation; try again
            }
            if ContinuousClock.now >= deadline { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let text = (try? await evaluate("document.body ? document.body.innerText : '(no body)'", timeout: .seconds(2)))?
            .string ?? "(unreadable)"
        throw HeadlessBrowserError.timeout(
            "condition not met within \(timeout): \(condition)"
            + (lastError.map { "\nlast error: \($0)" } ?? "")
            + "\npage text: \(text.prefix(500))")
    }

    /// What the page reported, in arrival order: console API calls as `level: text` (`log: ...`, `error: ...`,
    /// `warning: ...`), uncaught exceptions as `uncaught: text` and browser log entries (`Log.entryAdded`: CSP
    /// violations, failed requests...) as `log.LEVEL: [source] text (url)`.
    package var console: [String] { connection.console(sessionID) }

    /// A PNG screenshot of the viewport (`Page.captureScreenshot`).
    package func screenshot(timeout: Duration = .seconds(20)) async throws -> Data {
        let reply = try await connection.send("Page.captureScreenshot", ["format": .string("png")],
                                              session: sessionID, timeout: timeout)
        guard let base64 = reply["data"]?.string, let data = Data(base64Encoded: base64) else {
            throw HeadlessBrowserError.protocolError(method: "Page.captureScreenshot", message: "no base64 data")
        }
        return data
    }

    /// Chooses files in the file input matching the CSS `selector`, as a person picking them would
    /// (`DOM.setFileInputFiles`: the input's `files` are set and its `change` event fires).
    ///
    /// - Throws: ``HeadlessBrowserError/javaScript(_:)`` when no element matches; ``HeadlessBrowserError/protocolError(method:message:)``
    ///   when it is not a file input or a file cannot be read; ``HeadlessBrowserError/timeout(_:)``.
    package func setFiles(_ paths: [String], on selector: String, timeout: Duration = .seconds(10)) async throws {
        let quoted = String(decoding: try JSONEncoder().encode(selector), as: UTF8.self)
        let reply = try await connection.send(
            "Runtime.evaluate", ["expression": .string("document.querySelector(\(quoted))"), "returnByValue": .bool(false)],
            session: sessionID, timeout: timeout)
        guard let objectID = reply["result"]?["objectId"]?.string else {
            throw HeadlessBrowserError.javaScript("no element matches \(selector)")
        }
        _ = try await connection.send("DOM.setFileInputFiles",
                                      ["files": .array(paths.map { .string($0) }), "objectId": .string(objectID)],
                                      session: sessionID, timeout: timeout)
    }

    /// The URL of the current document (`location.href`).
    package func url() async throws -> URL? {
        try await evaluate("location.href").string.flatMap(URL.init(string:))
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

/// The DevTools pipe: writes NUL-terminated commands, and a reader thread splits the replies and events,
/// resolves pending commands by id and records per-session events (console, load events).
final class CDPConnection: Sendable {
    private struct Session {
        var console: [String] = []
        var loads = 0
    }

    private struct State {
        var nextID = 1
        var pending: [Int: (method: String, continuation: CheckedContinuation<JSONValue, any Error>)] = [:]
        var sessions: [String: Session] = [:]
        var closedReason: String?
    }

    private let state = Mutex(State())
    /// The write end of the command pipe; the lock also keeps concurrent commands from interleaving.
    private let writeFD: Mutex<Int32>
    private let readFD: Int32

    init(writeFD: Int32, readFD: Int32) {
        self.writeFD = Mutex(writeFD)
        self.readFD = readFD
    }

    func startReading() {
        // A plain thread: read(2) blocks, which must not tie up a cooperative-pool thread.
        let thread = Thread { [self] in readLoop() }
        thread.name = "chromium-devtools-reader"
        thread.start()
    }

    func checkOpen() throws {
        if let reason = state.withLock({ $0.closedReason }) { throw HeadlessBrowserError.closed(reason) }
    }

    func openSession(_ id: String) {
        state.withLock { if $0.sessions[id] == nil { $0.sessions[id] = Session() } }
    }

    func console(_ session: String) -> [String] { state.withLock { $0.sessions[session]?.console ?? [] } }
    func loadCount(_ session: String) -> Int { state.withLock { $0.sessions[session]?.loads ?? 0 } }

    /// Sends `method` and returns its `result` object.
    func send(_ method: String, _ params: [String: JSONValue] = [:], session: String? = nil,
              timeout: Duration) async throws -> JSONValue {
        let id = state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        let encoder = JSONEncoder()
        var message = "{\"id\":\(id),\"method\":" + String(decoding: try encoder.encode(method), as: UTF8.self)
        if let session { message += ",\"sessionId\":" + String(decoding: try encoder.encode(session), as: UTF8.self) }
        message += ",\"params\":" + String(decoding: try encoder.encode(JSONValue.object(params)), as: UTF8.self) + "}"
        let bytes = Array(message.utf8) + [0]

        let timer = Task { [self] in
            try await Task.sleep(for: timeout)
            resolve(id, .failure(HeadlessBrowserError.timeout("no reply to \(method) within \(timeout)")))
        }
        defer { timer.cancel() }
        return try await withCheckedThrowingContinuation { continuation in
            let closedReason: String? = state.withLock { state in
                if let reason = state.closedReason { return reason }
                state.pending[id] = (method, continuation)
                return nil
            }
            if let closedReason {
                continuation.resume(throwing: HeadlessBrowserError.closed(closedReason))
                return
            }
            if let failure = writeMessage(bytes) {
                resolve(id, .failure(HeadlessBrowserError.closed("writing \(method) failed: \(failure)")))
            }
        }
    }

    private func writeMessage(_ bytes: [UInt8]) -> String? {
        writeFD.withLock { fd -> String? in
            guard fd >= 0 else { return "the pipe is closed" }
            var offset = 0
            while offset < bytes.count {
                let written = bytes.withUnsafeBytes { buffer in
                    sysWrite(fd, buffer.baseAddress! + offset, buffer.count - offset)
                }
                if written < 0 {
                    if errno == EINTR { continue }
                    return errorText(errno)
                }
                offset += written
            }
            return nil
        }
    }

    private func resolve(_ id: Int, _ result: Result<JSONValue, any Error>) {
        let pending = state.withLock { $0.pending.removeValue(forKey: id) }
        switch result {
        case .success: pending?.continuation.resume(with: result)
        case .failure(let error):
            if case .protocolError(_, let message) = error as? HeadlessBrowserError, let method = pending?.method {
                pending?.continuation.resume(throwing: HeadlessBrowserError.protocolError(method: method, message: message))
            } else {
                pending?.continuation.resume(throwing: error)
            }
        }
    }

    /// Marks the connection closed, fails every pending command and closes the command pipe (the reader
    /// thread ends at end of file once the browser and its helpers are gone).
    func shutDown(reason: String) {
        let pending = state.withLock { state in
            if state.closedReason == nil { state.closedReason = reason }
            defer { state.pending = [:] }
            return state.pending
        }
        for entry in pending.values { entry.continuation.resume(throwing: HeadlessBrowserError.closed(reason)) }
        writeFD.withLock { fd in
            if fd >= 0 { closeFD(fd) }
            fd = -1
        }
    }

    private func readLoop() {
        var buffer = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { sysRead(readFD, $0.baseAddress!, $0.count) }
            if count < 0, errno == EINTR { continue }
            if count <= 0 { break }
            buffer.append(contentsOf: chunk[0..<count])
            var start = 0
            while let end = buffer[start...].firstIndex(of: 0) {
                handle(Data(buffer[start..<end]))
                start = end + 1
            }
            buffer.removeFirst(start)
        }
        closeFD(readFD)
        shutDown(reason: "chromium closed the DevTools pipe (it exited)")
    }

    private func handle(_ data: Data) {
        guard let message = JSONValue(data: data) else { return }
        if let id = message["id"]?.int {
            if let error = message["error"] {
                // resolve(_:_:) puts in the method name it has on record for this id.
                resolve(id, .failure(HeadlessBrowserError.protocolError(
                    method: "command \(id)", message: error["message"]?.string ?? "\(error)")))
            } else {
                resolve(id, .success(message["result"] ?? .object([:])))
            }
            return
        }
        guard let method = message["method"]?.string, let session = message["sessionId"]?.string else { return }
        let params = message["params"] ?? .object([:])
        var line: String?
        var loaded = false
        switch method {
        case "Page.loadEventFired":
            loaded = true
        case "Runtime.consoleAPICalled":
            let arguments = (params["args"]?.array ?? []).map(Self.text(of:)).joined(separator: " ")
            line = "\(params["type"]?.string ?? "log"): \(arguments)"
        case "Runtime.exceptionThrown":
            let details = params["exceptionDetails"]
            let text = details?["exception"]?["description"]?.string ?? details?["text"]?.string ?? "\(params)"
            line = "uncaught: \(text)"
        case "Log.entryAdded":
            let entry = params["entry"]
            line = "log.\(entry?["level"]?.string ?? "?"): [\(entry?["source"]?.string ?? "?")] \(entry?["text"]?.string ?? "")"
                + (entry?["url"]?.string.map { " (\($0))" } ?? "")
        default:
            return
        }
        state.withLock { state in
            var record = state.sessions[session] ?? Session()
            if loaded { record.loads += 1 }
            if let line { record.console.append(line) }
            state.sessions[session] = record
        }
    }

    /// The text of a console argument (a CDP `RemoteObject`): its primitive value, else its description.
    private static func text(of object: JSONValue) -> String {
        switch object["value"] {
        case .string(let text)?: return text
        case let value? where value != .null: return "\(value)"
        default: return object["description"]?.string ?? object["unserializableValue"]?.string ?? object["type"]?.string ?? "?"
        }
    }
}
