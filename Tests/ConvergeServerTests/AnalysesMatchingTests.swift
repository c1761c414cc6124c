import ConvergeAnalysis
import ConvergeCore
import ConvergeEmbeddings
import ConvergeTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
@testable import ConvergeServer

/// The installed all-MiniLM-L6-v2 (scripts/test installs it); on CI (`CI=true`) the tests run and fail without it.
enum ServerModel {
    static let available = ModelStore().locate() != nil || ProcessInfo.processInfo.environment["CI"] == "true"
}

/// Embedding and hybrid matching on `POST /v1/analyses`: the model loaded once by the server (`LoadedMatchings`),
/// the same report as the analyser gives with it, and a clear 422 from a server without it.
@Suite struct AnalysesMatchingTests {
    static func app(_ matching: ServerMatching) throws -> some ApplicationProtocol {
        let configuration = ServerConfiguration(host: "127.0.0.1", port: 0, tokens: try APITokens(parsing: nil))
        // A handler that keeps metadata (Hummingbird reads the request id from it), printing nothing.
        var logger = Logger(label: "converge.test") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = .critical
        return try ServerRoot(configuration: configuration, logger: logger, matching: matching).application
    }

    func post(_ app: some ApplicationProtocol, similarity: String?) async throws -> (status: HTTPResponse.Status, body: ByteBuffer) {
        var request = try Fixture.exampleRequest()
        if let similarity { request["similarity"] = similarity }
        let body = try Fixture.json(request)
        return try await app.test(.router) { client in
            try await client.execute(uri: "/v1/analyses", method: .post, headers: Fixture.jsonHeaders, body: body) { response in
                (response.status, response.body)
            }
        }
    }

    @Test(.enabled(if: ServerModel.available, "all-MiniLM-L6-v2 is not installed (scripts/test installs it)"))
    func everyMatchingWithTheModelLoadedOnce() async throws {
        let matchings = LoadedMatchings.load()
        let encoder = try #require(matchings.encoder, "\(matchings.unavailable ?? "")")
        let app = try Self.app(ServerMatching(matchings.model))
        let input = try Fixture.exampleInput()
        for (name, model) in [("hybrid", HybridSimilarity(encoder: encoder) as any SimilarityModel),
                              ("embedding", EmbeddingSimilarity(encoder: encoder)), ("lexical", LexicalSimilarity())] {
            let (status, body) = try await post(app, similarity: name)
            #expect(status == .ok, "\(name)")
            let report = try JSONDecoder().decode(Report.self, from: Data(body.readableBytesView))
            #expect(report.analysis?.similarity == name)
            #expect(report == Analyzer(similarity: model).analyze(input), "\(name): the analyser's report")
        }
        // Without `similarity`: the server's default, hybrid when it has the model (as `converge analyze`).
        let (status, body) = try await post(app, similarity: nil)
        #expect(status == .ok)
        #expect(try JSONDecoder().decode(Report.self, from: Data(body.readableBytesView)).analysis?.similarity == "hybrid")
    }

    /// Found by a fresh-user pass: two hybrid analyses at once held both threads of the cooperative pool (2
    /// cores), and `/healthz` waited 10 s for them. Analyses run on threads of their own now. A real
    /// `converge serve` (the model loaded at start), two long analyses, then `/healthz` while they run.
    @Test(.enabled(if: ServerModel.available, "all-MiniLM-L6-v2 is not installed (scripts/test installs it)"))
    func longAnalysesLeaveTheServerResponsive() async throws {
        let folder = Fixture.repo.deletingLastPathComponent().appendingPathComponent("shared/corpus/consolidation/ae-215")
        let input = try SurveyFolder.load(paths: [folder.path])
        let body = try JSONSerialization.data(withJSONObject: [
            "answers": input.answers.map { ["panelist": $0.panelist.id, "text": $0.text] }, "similarity": "hybrid",
        ] as [String: Any])
        let server = try ServeProcess(arguments: [], environment: ["CONVERGE_DATABASE_URL": try TestDatabase.sqlite.freshURL()])
        defer { server.kill() }
        let base = try await server.waitForURL()
        // Durations, not an absolute time: the health check must take a small part of an analysis's time (before
        // the fix it waited for the analyses' CPU work: 4.7 s of their 5.0 s).
        let clock = ContinuousClock()
        async let analyses: [Duration] = withThrowingTaskGroup(of: Duration.self) { group in
            for _ in 0..<2 {
                group.addTask {
                    let start = clock.now
                    let result = try await HTTP.send(base + "/v1/analyses", method: .POST,
                                                     headers: ["Content-Type": "application/json"], body: body)
                    #expect(result.status == 200)
                    return clock.now - start
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        try await Task.sleep(for: .milliseconds(500))
        let start = clock.now
        #expect(try await HTTP.send(base + "/healthz").status == 200)
        let health = clock.now - start
        let slowest = try await analyses.max()!
        #expect(health < slowest / 4, "health check \(health) beside analyses of \(slowest)")
    }

    @Test func aServerWithoutTheModelRefusesEmbeddingMatchingNamingTheField() async throws {
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("converge-nomodel-\(UUID().uuidString)").path
        let matchings = LoadedMatchings.load(from: ModelStore(environment: ["XDG_DATA_HOME": empty, "HOME": empty]))
        #expect(matchings.encoder == nil)
        #expect(matchings.defaultName == "lexical")
        let app = try Self.app(ServerMatching(matchings.model))
        for name in ["hybrid", "embedding"] {
            let (status, body) = try await post(app, similarity: name)
            #expect(status == .unprocessableContent, "\(name)")
            let error = try #require(Fixture.error(body))
            #expect(error.field == "similarity")
            #expect(error.message.hasPrefix("`\(name)` matching is not available: the embedding model all-MiniLM-L6-v2 "
                                            + "is not installed on this server"), "\(error.message)")
            #expect(error.message.contains("converge models install minilm"))
        }
        let (status, body) = try await post(app, similarity: nil)
        #expect(status == .ok)
        #expect(try JSONDecoder().decode(Report.self, from: Data(body.readableBytesView)).analysis?.similarity == "lexical")
    }
}
