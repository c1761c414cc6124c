import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

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
