import ConvergeAnalysis
import ConvergeCore
import ConvergeEmbeddings
import ConvergeRunner
import ConvergeStore
import ConvergeTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
@testable import ConvergeServer

/// The matching chosen wherever the server analyses: the `/analyze` form's select (through the router and in
/// headless Chromium) and `POST /v1/surveys`' `similarity`, stored with the survey and used by its analyses;
/// refused clearly by a server without the embedding model.
@Suite(.serialized) struct MatchingChoiceTests {
    /// The model loaded once for the suite, as `converge serve` loads it (nil when it is not installed).
    static let loaded = LoadedMatchings.load()
    static let noModel: LoadedMatchings = {
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("converge-nomodel-\(UUID().uuidString)").path
        return LoadedMatchings.load(from: ModelStore(environment: ["XDG_DATA_HOME": empty, "HOME": empty]))
    }()

    static func app(_ matchings: LoadedMatchings) throws -> some ApplicationProtocol {
        let configuration = ServerConfiguration(host: "127.0.0.1", port: 0, tokens: try APITokens(parsing: nil))
        var logger = Logger(label: "converge.test") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = .critical
        return try ServerRoot(configuration: configuration, logger: logger, matching: ServerMatching(matchings.model)).application
    }

    static let form: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]

    /// An `/analyze` form post: two short answers, and `similarity` when given.
    static func analyzeForm(similarity: String?) -> ByteBuffer {
        var fields = ["answer%5B%5D=Measure+before+you+cache.+Invalidation+is+hard.",
                      "answer%5B%5D=Caching+needs+invalidation%3B+measure+first."]
        if let similarity { fields.append("similarity=\(similarity)") }
        return ByteBuffer(string: fields.joined(separator: "&"))
    }

    /// The `<select name="similarity">` of a page: its option values, the selected one, the disabled ones.
    static func select(_ html: String) -> (options: [String], selected: String?, disabled: [String])? {
        guard let start = html.range(of: "<select id=\"similarity\" name=\"similarity\">"),
              let end = html.range(of: "</select>", range: start.upperBound..<html.endIndex) else { return nil }
        var options: [String] = [], selected: String?, disabled: [String] = []
        for line in html[start.upperBound..<end.lowerBound].split(separator: "\n") where line.hasPrefix("<option value=\"") {
            let value = String(line.dropFirst("<option value=\"".count).prefix { $0 != "\"" })
            options.append(value)
            let tag = line.prefix { $0 != ">" }
            if tag.contains(" selected") { selected = value }
            if tag.contains(" disabled") { disabled.append(value) }
        }
        return (options, selected, disabled)
    }

    @Test(.enabled(if: ServerModel.available, "all-MiniLM-L6-v2 is not installed (scripts/test installs it)"))
    func theAnalyzeFormOffersEveryMatchingAndUsesTheChosenOne() async throws {
        _ = try #require(Self.loaded.encoder, "\(Self.loaded.unavailable ?? "")")
        try await Self.app(Self.loaded).test(.router) { client in
            try await client.execute(uri: "/analyze", method: .get) { response in
                #expect(response.status == .ok)
                let select = try #require(Self.select(String(buffer: response.body)))
                #expect(select.options == ["lexical", "embedding", "hybrid"])
                #expect(select.selected == "hybrid", "the default with the model loaded")
                #expect(select.disabled.isEmpty)
            }
            for name in ["lexical", "embedding", "hybrid"] {
                try await client.execute(uri: "/analyze", method: .post, headers: Self.form,
                                         body: Self.analyzeForm(similarity: name)) { response in
                    #expect(response.status == .ok, "\(name)")
                    #expect(String(buffer: response.body).contains("Similarity: \(name)"), "\(name)")
                }
            }
            // No choice (an older form): the server's default.
            try await client.execute(uri: "/analyze", method: .post, headers: Self.form,
                                     body: Self.analyzeForm(similarity: nil)) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("Similarity: hybrid"))
            }
            // Not a matching: the form again, the error named, nothing analysed.
            try await client.execute(uri: "/analyze", method: .post, headers: Self.form,
                                     body: Self.analyzeForm(similarity: "fuzzy")) { response in
                #expect(response.status == .badRequest)
                let html = String(buffer: response.body)
                #expect(html.contains("Matching: `fuzzy` is not one of lexical, embedding, hybrid."))
                #expect(html.contains("<select id=\"similarity\""))
                #expect(!html.contains("Similarity: "))
            }
        }
    }

    @Test func theAnalyzeFormWithoutTheModelOffersLexicalAndExplainsTheRest() async throws {
        #expect(Self.noModel.encoder == nil)
        try await Self.app(Self.noModel).test(.router) { client in
            try await client.execute(uri: "/analyze", method: .get) { response in
                let html = String(buffer: response.body)
                let select = try #require(Self.select(html))
                #expect(select.options == ["lexical", "embedding", "hybrid"])
                #expect(select.selected == "lexical")
                #expect(select.disabled == ["embedding", "hybrid"])
                #expect(html.contains("(no embedding model on this server)"))
            }
            try await client.execute(uri: "/analyze", method: .post, headers: Self.form,
                                     body: Self.analyzeForm(similarity: "hybrid")) { response in
                #expect(response.status == .unprocessableContent)
                let html = String(buffer: response.body)
                #expect(html.contains("`hybrid` matching is not available: the embedding model all-MiniLM-L6-v2 is not installed"))
                #expect(html.contains("converge models install minilm"))
                #expect(!html.contains("Similarity: "))
            }
            try await client.execute(uri: "/analyze", method: .post, headers: Self.form,
                                     body: Self.analyzeForm(similarity: "lexical")) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("Similarity: lexical"))
            }
        }
    }

    /// A person's way through the form in headless Chromium: pick "embedding" in the select, submit, read the
    /// report's matching.
    @Test(.enabled(if: ServerModel.available, "all-MiniLM-L6-v2 is not installed (scripts/test installs it)"))
    func theAnalyzeFormsSelectInChromium() async throws {
        guard Chromium.available else { return }
        _ = try #require(Self.loaded.encoder, "\(Self.loaded.unavailable ?? "")")
        try await Self.app(Self.loaded).test(.live) { client in
            let base = "http://127.0.0.1:\(try #require(client.port))"
            try await HeadlessBrowser.withBrowser(windowWidth: 1200, height: 1600) { browser in
                let page = try await browser.newPage()
                try await page.navigate(to: URL(string: base + "/analyze")!)
                #expect(try await page.evaluate("document.getElementById('similarity').value").string == "hybrid")
                let choices = "Array.from(document.querySelectorAll('#similarity option')).map(o => o.value).join(',')"
                #expect(try await page.evaluate(choices).string == "lexical,embedding,hybrid")
                _ = try await page.evaluate("""
                    const answers = document.querySelectorAll('textarea[name="answer[]"]');
                    answers[0].value = 'Measure before you cache. Invalidation is hard.';
                    answers[1].value = 'Caching needs invalidation; measure first.';
                    document.getElementById('similarity').value = 'embedding';
                    document.querySelector('form[action="/analyze"]').submit(); true
                    """)
                try await page.waitUntil("document.readyState === 'complete' && document.body.innerText.includes('Similarity: ')",
                                         timeout: .seconds(60))
                #expect(try await page.evaluate("document.body.innerText.includes('Similarity: embedding')").bool == true)
                let problems = page.console.filter { !$0.lowercased().contains("favicon") }
                #expect(problems.isEmpty, "console: \(problems)")
            }
        }
    }

    // MARK: POST /v1/surveys

    func createSurvey(_ client: some TestClientProtocol, _ body: [String: Any]) async throws -> TestResponse {
        try await client.execute(uri: "/v1/surveys", method: .post, headers: Fixture.jsonHeaders, body: try Fixture.json(body))
    }

    @Test(.enabled(if: ServerModel.available, "all-MiniLM-L6-v2 is not installed (scripts/test installs it)"),
          arguments: TestDatabase.allCases)
    func aSurveysMatchingIsStoredAndUsedByItsAnalyses(_ database: TestDatabase) async throws {
        _ = try #require(Self.loaded.encoder, "\(Self.loaded.unavailable ?? "")")
        try await withSurveyFixture(database, matching: ServerMatching(Self.loaded.model)) { fixture in
            fixture.provider.script("alpha", [.answer("Alpha: measure before you cache."), .answer("Alpha: short TTLs.")])
            fixture.provider.script("beta", [.answer("Beta: caching needs invalidation; measure first."),
                                             .answer("Beta: measure TTLs.")])
            try await fixture.app().test(.router) { client in
                var ids: [String: String] = [:]
                for name in ["lexical", "embedding", nil] as [String?] {
                    var body: [String: Any] = ["prompt": "Should we cache?", "panel": ["openai/alpha", "openai/beta"]]
                    if let name { body["similarity"] = name }
                    let created = try await createSurvey(client, body)
                    #expect(created.status == .accepted, "\(name ?? "default")")
                    ids[name ?? "default"] = try #require(Fixture.object(created.body)?["id"] as? String)
                    await fixture.service.waitUntilIdle()
                }
                for (name, id) in ids {
                    let stored = try await SurveyArchive(store: fixture.store).load(id)
                    #expect(stored.spec.similarity == (name == "default" ? nil : name), "\(name)")
                    let detail = try #require(Fixture.object(
                        try await client.execute(uri: "/v1/surveys/\(id)", method: .get).body))
                    #expect(detail["similarity"] as? String == (name == "default" ? nil : name), "\(name)")
                    let report = try JSONDecoder().decode(Report.self, from: Data(
                        try await client.execute(uri: "/v1/surveys/\(id)/report", method: .get).body.readableBytesView))
                    #expect(report.analysis?.similarity == (name == "default" ? "hybrid" : name), "\(name)")
                }
                // A follow-up is analysed with the survey's matching again.
                let id = try #require(ids["lexical"])
                let followUp = try await client.execute(uri: "/v1/surveys/\(id)/follow-ups", method: .post,
                                                        headers: Fixture.jsonHeaders,
                                                        body: try Fixture.json(["prompt": "And TTLs?"]))
                #expect(followUp.status == .accepted)
                await fixture.service.waitUntilIdle()
                let report = try JSONDecoder().decode(Report.self, from: Data(
                    try await client.execute(uri: "/v1/surveys/\(id)/report", method: .get).body.readableBytesView))
                #expect(report.prompt == "And TTLs?")
                #expect(report.analysis?.similarity == "lexical")
            }
        }
    }

    @Test func aSurveysMatchingTheServerCannotMakeIsRefusedNamingTheField() async throws {
        try await withSurveyFixture(.sqlite, matching: ServerMatching(Self.noModel.model)) { fixture in
            try await fixture.app().test(.router) { client in
                for name in ["hybrid", "embedding"] {
                    let response = try await createSurvey(client, ["prompt": "Q?", "panel": ["openai/a"], "similarity": name])
                    #expect(response.status == .unprocessableContent, "\(name)")
                    let error = try #require(Fixture.error(response.body))
                    #expect(error.field == "similarity")
                    #expect(error.message.hasPrefix("`\(name)` matching is not available: the embedding model all-MiniLM-L6-v2 "
                                                    + "is not installed on this server"), "\(error.message)")
                }
                // Not a matching at all: the schema's enum, a 400 naming the field (as on POST /v1/analyses).
                for body: [String: Any] in [["prompt": "Q?", "panel": ["openai/a"], "similarity": "fuzzy"],
                                            ["prompt": "Q?", "panel": ["openai/a"], "similarity": 3]] {
                    let response = try await createSurvey(client, body)
                    #expect(response.status == .badRequest)
                    #expect(Fixture.error(response.body)?.field == "similarity", "\(String(buffer: response.body))")
                }
                let lexical = try await createSurvey(client, ["prompt": "Q?", "panel": ["openai/a"], "similarity": "lexical"])
                #expect(lexical.status == .accepted)
                await fixture.service.waitUntilIdle()
            }
            // Only the lexical survey was stored; nothing was asked for the refused ones.
            let stored = try await fixture.store.surveys(limit: 10, offset: 0)
            #expect(stored.count == 1)
            #expect(fixture.provider.requests.count == 1)
        }
    }

    // MARK: The survey start form

    static func startForm(similarity: String?) -> PagesRouterTests.Multipart {
        var form = PagesRouterTests.Multipart()
        form.field("prompt", "Should we cache?")
        form.field("panel", "openai/alpha\nopenai/beta")
        form.field("samples", "1")
        if let similarity { form.field("similarity", similarity) }
        form.file("rubric", filename: "", [])
        return form
    }

    @Test(.enabled(if: ServerModel.available, "all-MiniLM-L6-v2 is not installed (scripts/test installs it)"))
    func theStartFormsMatchingIsStoredWithTheSurvey() async throws {
        _ = try #require(Self.loaded.encoder, "\(Self.loaded.unavailable ?? "")")
        try await withSurveyFixture(.sqlite, matching: ServerMatching(Self.loaded.model)) { fixture in
            fixture.provider.script("alpha", [.answer("Alpha: measure before you cache.")])
            fixture.provider.script("beta", [.answer("Beta: caching needs invalidation; measure first.")])
            try await fixture.app().test(.router) { client in
                try await client.execute(uri: "/surveys/new", method: .get) { response in
                    let select = try #require(Self.select(String(buffer: response.body)))
                    #expect(select.selected == "hybrid")
                    #expect(select.disabled.isEmpty)
                }
                let form = Self.startForm(similarity: "embedding")
                let started = try await client.execute(uri: "/surveys", method: .post, headers: form.headers, body: form.buffer)
                #expect(started.status == .seeOther)
                let id = String(try #require(started.headers[.location]).dropFirst("/surveys/".count))
                await fixture.service.waitUntilIdle()
                #expect(try await SurveyArchive(store: fixture.store).load(id).spec.similarity == "embedding")
                let report = try JSONDecoder().decode(Report.self, from: Data(
                    try await client.execute(uri: "/v1/surveys/\(id)/report", method: .get).body.readableBytesView))
                #expect(report.analysis?.similarity == "embedding")

                let bad = Self.startForm(similarity: "fuzzy")
                try await client.execute(uri: "/surveys", method: .post, headers: bad.headers, body: bad.buffer) { response in
                    #expect(response.status == .badRequest)
                    #expect(String(buffer: response.body).contains("Matching: `fuzzy` is not one of lexical, embedding, hybrid."))
                }
            }
            #expect(try await fixture.store.surveys(limit: 10, offset: 0).count == 1)
        }
    }

    @Test func theStartFormWithoutTheModelRefusesEmbeddingMatching() async throws {
        try await withSurveyFixture(.sqlite, matching: ServerMatching(Self.noModel.model)) { fixture in
            try await fixture.app().test(.router) { client in
                try await client.execute(uri: "/surveys/new", method: .get) { response in
                    let select = try #require(Self.select(String(buffer: response.body)))
                    #expect(select.selected == "lexical")
                    #expect(select.disabled == ["embedding", "hybrid"])
                }
                let form = Self.startForm(similarity: "hybrid")
                try await client.execute(uri: "/surveys", method: .post, headers: form.headers, body: form.buffer) { response in
                    #expect(response.status == .unprocessableContent)
                    let html = String(buffer: response.body)
                    #expect(html.contains("`hybrid` matching is not available: the embedding model all-MiniLM-L6-v2 is not installed"))
                    #expect(html.contains("Should we cache?"), "the form again, filled in")
                }
            }
            #expect(try await fixture.store.surveys(limit: 10, offset: 0).isEmpty)
            #expect(fixture.provider.requests.isEmpty)
        }
    }
}
