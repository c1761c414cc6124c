import ConvergeProviders
import ConvergeStore
import ConvergeTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
@testable import ConvergeServer

/// The databases the survey tests run on: a fresh SQLite file, or a fresh database in the shared initdb'd
/// PostgreSQL cluster.
enum TestDatabase: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite, postgres
    var testDescription: String { rawValue }

    func freshURL() throws -> String {
        switch self {
        case .sqlite:
            let folder = FileManager.default.temporaryDirectory
                .appendingPathComponent("converge-server-" + UUID().uuidString.prefix(8).lowercased())
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            return "sqlite:" + folder.appendingPathComponent("surveys.sqlite").path
        case .postgres:
            let cluster = try PostgresTestCluster.shared()
            let name = "srv_" + UUID().uuidString.prefix(8).lowercased()
            try cluster.createDatabase(name)
            return cluster.url(database: name)
        }
    }
}

/// A server with a survey store and a ProviderTestServer as every panelist's provider (`openai/MODEL`), wired
/// as `converge serve` wires it (``ServerRoot``).
struct SurveyFixture {
    static let providerKey = "sk-test-provider-key-never-echoed-7f3a"

    let provider: ProviderTestServer
    let store: any SurveyStore
    let server: ServerRoot
    let databaseURL: String

    var service: SurveyService { server.surveys! }

    static func start(_ database: TestDatabase, config: ConvergeConfig = ConvergeConfig(),
                      tokens: [String] = [], matching: ServerMatching = .lexicalOnly) async throws -> SurveyFixture {
        let provider = try await ProviderTestServer.start()
        let url = try database.freshURL()
        let store = try await openStore(try DatabaseURL(parsing: url))
        let directory = ProviderDirectory(environment: [
            "OPENAI_API_KEY": providerKey, "OPENAI_BASE_URL": provider.baseURL + "/v1",
        ])
        let configuration = ServerConfiguration(host: "127.0.0.1", port: 0,
                                                tokens: try APITokens(parsing: tokens.joined(separator: ",")))
        let server = try ServerRoot(configuration: configuration, store: store, providers: directory, settings: config,
                                    logger: Logger(label: "converge.test") { _ in LogCapture().handler }, matching: matching)
        return SurveyFixture(provider: provider, store: store, server: server, databaseURL: url)
    }

    /// The application, to test through its router or live.
    func app() -> some ApplicationProtocol { server.application }

    func close() async {
        await service.stop()
        await store.close()
        try? await provider.shutdown()
    }
}

/// Runs `body` with a fresh ``SurveyFixture`` and closes it afterwards, whether `body` returns or throws (a
/// failed `#require` included), so that no server or database is left open.
func withSurveyFixture<Result>(_ database: TestDatabase, config: ConvergeConfig = ConvergeConfig(),
                               tokens: [String] = [], matching: ServerMatching = .lexicalOnly,
                               _ body: (SurveyFixture) async throws -> Result) async throws -> Result {
    let fixture = try await SurveyFixture.start(database, config: config, tokens: tokens, matching: matching)
    do {
        let result = try await body(fixture)
        await fixture.close()
        return result
    } catch {
        await fixture.close()
        throw error
    }
}

/// Server-Sent Events parsed from a complete stream body.
struct ParsedEvent {
    var name: String
    var data: [String: Any]

    static func parse(_ text: String) -> [ParsedEvent] {
        text.components(separatedBy: "\n\n").compactMap { block in
            var name = "message", data = ""
            for line in block.split(separator: "\n") {
                if line.hasPrefix("event: ") { name = String(line.dropFirst(7)) }
                if line.hasPrefix("data: ") { data += line.dropFirst(6) }
            }
            guard !data.isEmpty,
                  let object = (try? JSONSerialization.jsonObject(with: Data(data.utf8))) as? [String: Any] else { return nil }
            return ParsedEvent(name: name, data: object)
        }
    }
}
