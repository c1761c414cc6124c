import AsyncHTTPClient
import ConvergeAnalysis
import ConvergeCore
import ConvergeReport
import ConvergeTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOHTTP1
import Testing
@testable import ConvergeServer

/// A real `converge serve --port 0` process, and the app on a live socket (`.live`).
@Suite(.serialized) struct LiveServerTests {
    @Test func liveSocketServesTheExampleReport() async throws {
        let expected = ReportRenderer.render(ConvergeAnalysisFacade.example(), format: .json)
        try await Fixture.app().test(.live) { client in
            try await client.execute(uri: "/v1/analyses", method: .post, headers: Fixture.jsonHeaders,
                                     body: try Fixture.json(Fixture.exampleRequest())) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) + "\n" == expected)
            }
        }
    }

    /// Without tokens the server answers only to loopback host names: a page on another site whose name was
    /// rebound to 127.0.0.1 (DNS rebinding) sends its own name in `Host` and is refused.
    @Test func withoutTokensAForeignHostHeaderIsRefused() async throws {
        try await Fixture.app().test(.live) { client in
            let base = "http://127.0.0.1:\(try #require(client.port))"
            for host in ["evil.example", "evil.example:\(client.port!)", "192.168.1.5"] {
                let refused = try await HTTP.send(base + "/analyze", headers: ["Host": host])
                #expect(refused.status == 421, "\(host)")
                #expect(refused.text.contains("misdirected_request"), "\(host)")
            }
            for host in ["localhost:\(client.port!)", "127.0.0.1:\(client.port!)", "[::1]:\(client.port!)", "127.0.0.1"] {
                #expect(try await HTTP.send(base + "/healthz", headers: ["Host": host]).status == 200, "\(host)")
            }
        }
        // With tokens, any host name is fine (the tokens guard the server).
        try await Fixture.app(tokens: [Fixture.token]).test(.live) { client in
            let base = "http://127.0.0.1:\(try #require(client.port))"
            #expect(try await HTTP.send(base + "/healthz", headers: ["Host": "converge.internal.example"]).status == 200)
        }
    }

    @Test func aPortInUseIsAClearInputError() async throws {
        try await Fixture.app().test(.live) { client in
            let port = try #require(client.port)
            let db = try TestDatabase.sqlite.freshURL()
            let result = try ServeProcess.runCLI(["serve", "--port", "\(port)", "--db", db],
                                                 environment: ["CONVERGE_API_TOKENS": ""])
            #expect(result.status == 2)
            #expect(result.stderr.contains("converge: error: --port: cannot listen on http://127.0.0.1:\(port): address already in use"))
            #expect(!result.stderr.contains("errno"))
        }
    }

    @Test func realProcessServesAuthenticatesAndStopsOnSIGTERM() async throws {
        let providerKey = "sk-test-provider-key-must-not-leak-42"
        let server = try ServeProcess(arguments: ["--max-body-bytes", "65536"], environment: [
            "CONVERGE_API_TOKENS": "\(Fixture.token),\(Fixture.otherToken)",
            "OPENAI_API_KEY": providerKey,
            "CONVERGE_DATABASE_URL": try TestDatabase.sqlite.freshURL(),
        ])
        defer { server.kill() }
        let base = try await server.waitForURL()
        #expect(base.hasPrefix("http://127.0.0.1:"))
        var seen = ""

        // The report equals what `converge analyze --format json` prints, byte for byte, with the same default
        // matching (hybrid when the model is installed: the server loaded it once at start).
        let cli = try ServeProcess.runCLI(["analyze", Fixture.example.path, "--format", "json", "--offline"])
        #expect(cli.status == 0)
        let body = try JSONSerialization.data(withJSONObject: Fixture.exampleRequest())
        let ok = try await HTTP.send(base + "/v1/analyses", method: .POST, headers: ["Authorization": "Bearer \(Fixture.token)",
                                     "Content-Type": "application/json"], body: body)
        #expect(ok.status == 200)
        #expect(ok.text + "\n" == cli.stdout)
        let analysis = (try JSONSerialization.jsonObject(with: Data(ok.text.utf8)) as? [String: Any])?["analysis"] as? [String: Any]
        #expect(analysis?["similarity"] as? String == (ServerModel.available ? "hybrid" : "lexical"))
        seen += ok.text + ok.headerText

        for headers in [["Content-Type": "application/json"],
                        ["Content-Type": "application/json", "Authorization": "Bearer \(Fixture.token)-not"]] {
            let denied = try await HTTP.send(base + "/v1/analyses", method: .POST, headers: headers, body: body)
            #expect(denied.status == 401)
            #expect(denied.text.contains("\"code\":\"unauthorized\""))
            seen += denied.text + denied.headerText
        }
        let tooLarge = try await HTTP.send(base + "/v1/analyses", method: .POST, headers: [
            "Authorization": "Bearer \(Fixture.otherToken)", "Content-Type": "application/json",
        ], body: Data(repeating: UInt8(ascii: " "), count: 200_000))
        #expect(tooLarge.status == 413)
        #expect(tooLarge.text.contains("payload_too_large"))
        let badJSON = try await HTTP.send(base + "/v1/analyses", method: .POST, headers: [
            "Authorization": "Bearer \(Fixture.token)", "Content-Type": "application/json",
        ], body: Data("{\"answers\": [{".utf8))
        #expect(badJSON.status == 400)
        #expect(badJSON.text.contains("\"code\":\"invalid_json\""))
        seen += tooLarge.text + badJSON.text + badJSON.headerText

        let health = try await HTTP.send(base + "/healthz")
        #expect(health.status == 200)
        let spec = try await HTTP.send(base + "/openapi.yaml")
        #expect(spec.status == 200)
        #expect(spec.text == (try String(contentsOf: Fixture.repo.appendingPathComponent("Sources/ConvergeServer/API/openapi.yaml"),
                                         encoding: .utf8)))
        #expect(try await HTTP.send(base + "/metrics").status == 401)
        let metrics = try await HTTP.send(base + "/metrics", headers: ["Authorization": "Bearer \(Fixture.token)"])
        #expect(metrics.status == 200)
        #expect(metrics.text.contains("hb_requests{"))
        #expect(metrics.text.contains("http_route=\"/v1/analyses\""))
        #expect(metrics.text.contains("http_response_status_code=\"401\""))
        #expect(metrics.text.contains("converge_analyses{"))
        seen += health.text + spec.text + metrics.text

        // SIGTERM: a graceful stop, exit status 0, promptly.
        let stopped = ContinuousClock.now
        let status = try await server.terminate()
        #expect(status == 0)
        #expect(ContinuousClock.now - stopped < .seconds(10))
        let log = server.stderr
        #expect(log.contains("converge: serving on http://127.0.0.1:"))
        for secret in [Fixture.token, Fixture.otherToken, providerKey] {
            #expect(!seen.contains(secret), "a response holds a secret")
            #expect(!log.contains(secret), "the log holds a secret")
        }
    }

    @Test func refusesANonLoopbackHostWithoutTokens() throws {
        let result = try ServeProcess.runCLI(["serve", "--host", "0.0.0.0", "--port", "0"],
                                             environment: ["CONVERGE_API_TOKENS": ""])
        #expect(result.status == 2)
        #expect(result.stderr.contains("CONVERGE_API_TOKENS"))
        #expect(!result.stderr.contains("serving on"))
        let short = try ServeProcess.runCLI(["serve", "--port", "0"], environment: ["CONVERGE_API_TOKENS": "short"])
        #expect(short.status == 2)
        #expect(short.stderr.contains("shorter than 16"))
    }
}

enum ConvergeAnalysisFacade {
    static func example() -> ConvergeCore.Report {
        Analyzer().analyze(try! Fixture.exampleInput())
    }
}

/// Plain HTTP requests to a live server (AsyncHTTPClient).
enum HTTP {
    struct Result {
        var status: UInt
        var text: String
        var headerText: String
    }

    static func send(_ url: String, method: HTTPMethod = .GET, headers: [String: String] = [:], body: Data? = nil)
        async throws -> Result
    {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
        let buffer = try await response.body.collect(upTo: 16 << 20)
        return Result(status: response.status.code, text: String(buffer: buffer),
                      headerText: response.headers.map { "\($0.name): \($0.value)" }.joined(separator: "\n"))
    }
}

/// The built `converge serve` of this repository, and its other commands.
extension ServeProcess {
    static let binary = ChildProcess.builtProduct("converge", repository: Fixture.repo)

    convenience init(arguments: [String], environment: [String: String]) throws {
        try self.init(binary: Self.binary, arguments: arguments, environment: environment, directory: Fixture.repo)
    }

    typealias CLIResult = ChildProcess.Output

    static func runCLI(_ arguments: [String], environment: [String: String] = [:]) throws -> CLIResult {
        try ChildProcess.run(binary, arguments, environment: ProcessInfo.processInfo.environment.merging(environment) { $1 },
                             directory: Fixture.repo)
    }
}
