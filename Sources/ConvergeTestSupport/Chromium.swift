import Foundation

/// Drives the system's headless Chromium (Debian package `chromium`) from tests: loads a local page and
/// returns the DOM after scripts (if any) ran, the console messages, or a screenshot.
///
/// The browser runs with a throwaway profile, no sandbox (tests run as root), and no way off the machine
/// (``isolationArguments``): every host name but the loopback address 127.0.0.1 resolves to nothing and every
/// other request goes to a closed proxy on loopback; background networking, component updates and sync are
/// off. Pages served on `http://127.0.0.1:PORT/` load. Console messages are read from Chromium's log on
/// standard error (`--enable-logging=stderr`), where each appears as `INFO:CONSOLE...] "message", source: ...`;
/// a Content-Security-Policy violation is logged there too.
package enum Chromium {
    /// The browser executable: `$CONVERGE_CHROMIUM`, else `chromium`, `chromium-browser` or `google-chrome`
    /// on `PATH`; `nil` when there is none.
    package static let executable: String? = {
        let environment = ProcessInfo.processInfo.environment
        if let path = environment["CONVERGE_CHROMIUM"], FileManager.default.isExecutableFile(atPath: path) { return path }
        let folders = (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            for folder in folders where FileManager.default.isExecutableFile(atPath: "\(folder)/\(name)") {
                return "\(folder)/\(name)"
            }
        }
        FileHandle.standardError.write(Data("""

            ************************************************************************************************
            * SKIPPING the Chromium tests (HTML report, headless browser): no chromium on PATH.            *
            * Install it (apt-get install chromium) or set CONVERGE_CHROMIUM; scripts/test installs it.     *
            ************************************************************************************************

            """.utf8))
        return nil
    }()

    package static var available: Bool { executable != nil }

    package struct Failure: Error, CustomStringConvertible {
        package var description: String
        package init(description: String) { self.description = description }
    }

    package struct Result: Sendable {
        /// Standard output (the DOM with `--dump-dom`).
        package var output: String
        /// Console messages of the page, in order.
        package var console: [String]
        /// Chromium's whole log (standard error).
        package var log: String
    }

    /// The flags that keep a test browser on this machine, shared by ``run(_:timeout:)`` and `HeadlessBrowser`:
    /// headless, no sandbox (tests run as root), no GPU, no first-run or default-browser prompts, no background
    /// networking, component updates, sync, extensions or default apps.
    ///
    /// Network isolation: `--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1` makes every host name
    /// fail to resolve (`net::ERR_NAME_NOT_RESOLVED`) except the literal 127.0.0.1 (without the EXCLUDE the IP
    /// literal is mapped too and loopback pages fail); `--proxy-server=http://127.0.0.1:9` sends any request
    /// that still gets past the resolver to a closed port (discard) on loopback. Chromium never proxies
    /// loopback (its implicit `<-loopback>` bypass rule), so `http://127.0.0.1:PORT/` is fetched directly.
    package static let isolationArguments: [String] = [
        "--headless", "--no-sandbox", "--disable-gpu",
        "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-extensions", "--disable-default-apps",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "--proxy-server=http://127.0.0.1:9",
    ]

    /// Loads `page` and returns the serialized DOM once it has loaded (2 s of virtual time for timers,
    /// image errors and the like), with the console messages.
    package static func dumpDOM(_ page: URL) throws -> Result {
        try run(["--dump-dom", page.absoluteString])
    }

    /// Loads `page` in a `width` x `height` window and writes a PNG screenshot of it to `png`.
    package static func screenshot(_ page: URL, to png: URL, width: Int, height: Int) throws -> Result {
        try run(["--screenshot=\(png.path)", "--window-size=\(width),\(height)", "--hide-scrollbars",
                 page.absoluteString])
    }

    /// Prints `page` to a PDF file.
    package static func printToPDF(_ page: URL, to pdf: URL) throws -> Result {
        try run(["--print-to-pdf=\(pdf.path)", "--no-pdf-header-footer", page.absoluteString])
    }

    package static func run(_ arguments: [String], timeout: TimeInterval = 90) throws -> Result {
        guard let executable else { throw Failure(description: "chromium is not installed") }
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("converge-chromium-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: profile, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: profile) }
        let outFile = profile.appendingPathComponent("stdout"), errFile = profile.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outFile.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errFile.path, contents: nil)
        let out = try FileHandle(forWritingTo: outFile), err = try FileHandle(forWritingTo: errFile)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = isolationArguments + [
            "--user-data-dir=\(profile.appendingPathComponent("profile").path)",
            "--enable-logging=stderr", "--v=0", "--virtual-time-budget=2000",
        ] + arguments
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { usleep(50_000) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            throw Failure(description: "chromium did not finish within \(Int(timeout)) s")
        }
        try out.close()
        try err.close()
        let output = try String(contentsOf: outFile, encoding: .utf8)
        let log = String(decoding: try Data(contentsOf: errFile), as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw Failure(description: "chromium exited with \(process.terminationStatus):\n\(log.suffix(2000))")
        }
        let console = log.split(separator: "\n").filter { $0.contains(":CONSOLE") }.map { line in
            line.firstIndex(of: "]").map { String(line[line.index(after: $0)...]).trimmingCharacters(in: .whitespaces) } ?? String(line)
        }
        return Result(output: output, console: console, log: log)
    }

    /// Width and height of a PNG file, from its IHDR chunk; `nil` when the data is not a PNG.
    package static func pngSize(_ data: Data) -> (width: Int, height: Int)? {
        let bytes = [UInt8](data.prefix(24))
        guard bytes.count == 24, bytes[0..<8] == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A],
              bytes[12..<16] == [0x49, 0x48, 0x44, 0x52] else { return nil }
        func int(_ at: Int) -> Int { bytes[at..<at + 4].reduce(0) { $0 << 8 | Int($1) } }
        return (int(16), int(20))
    }
}
