import ConvergeCore
import ConvergeForms
import ConvergeRunner
import ConvergeStore
import ConvergeTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import ConvergeServer

/// The survey pages through the router (`app.test(.router)`): the start form (multipart, with a rubric file),
/// the list, the live page, its event stream and report, follow-up and delete forms, on SQLite and PostgreSQL;
/// form errors; cross-site posts; the login throttle.
@Suite(.serialized) struct PagesRouterTests {
    /// A `multipart/form-data` body as a browser sends it: text fields, then files.
    struct Multipart {
        let boundary = "----converge-test-" + UUID().uuidString
        var body = ""
        var bytes: [UInt8] = []

        mutating func field(_ name: String, _ value: String) {
            bytes += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n".utf8)
            bytes += Array(value.replacingOccurrences(of: "\n", with: "\r\n").utf8) + Array("\r\n".utf8)
        }

        mutating func file(_ name: String, filename: String, _ data: [UInt8]) {
            bytes += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"; filename=\"\(filename)\"\r\n".utf8)
            bytes += Array("Content-Type: application/x-yaml\r\n\r\n".utf8)
            bytes += data + Array("\r\n".utf8)
        }

        var buffer: ByteBuffer { ByteBuffer(bytes: bytes + Array("--\(boundary)--\r\n".utf8)) }
        var headers: HTTPFields { [.contentType: "multipart/form-data; boundary=\(boundary)"] }
    }

    static func startForm(panel: String = "openai/alpha\nopenai/beta", rubricFile: [UInt8]? = Array(SurveysRouterTests.rubric.utf8),
                          extra: [String: String] = [:]) -> Multipart {
        var form = Multipart()
        form.field("prompt", "Should we <cache>?")
        form.field("panel", panel)
        form.field("followUp", "And when not?")
        form.field("followUp", "")
        for name in ["samples", "temperature", "maxTokens", "system", "rubricText"] {
            form.field(name, extra[name] ?? (name == "samples" ? "1" : ""))
        }
        form.file("rubric", filename: rubricFile == nil ? "" : "rubric.yaml", rubricFile ?? [])
        return form
    }

    @Test(arguments: TestDatabase.allCases)
    func theStartFormRunsASurveyThatTheLivePageAndTheListShow(_ database: TestDatabase) async throws {
        try await withSurveyFixture(database) { fixture in
            fixture.provider.script("alpha", [.answer("Alpha: measure before you cache. <b>bold</b>", delay: 0.3),
                                              .answer("Alpha again: invalidation is hard.")])
            fixture.provider.script("beta", [.answer("Beta: caching needs invalidation; measure first.", delay: 0.5),
                                             .answer("Beta again: measure hit rates.")])
            try await fixture.app().test(.router) { client in
                try await client.execute(uri: "/surveys", method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(String(buffer: response.body).contains("No surveys yet."))
                }
                try await client.execute(uri: "/surveys/new", method: .get) { response in
                    #expect(response.status == .ok)
                    let html = String(buffer: response.body)
                    #expect(html.contains("enctype=\"multipart/form-data\""))
                    #expect(html.contains("type=\"file\" id=\"rubric\" name=\"rubric\""))
                }
                let form = Self.startForm()
                let id = try await client.execute(uri: "/surveys", method: .post, headers: form.headers, body: form.buffer) { response in
                    #expect(response.status == .seeOther)
                    let location = try #require(response.headers[.location])
                    #expect(location.hasPrefix("/surveys/"))
                    return String(location.dropFirst("/surveys/".count))
                }
                // The page's own event stream (no bearer token needed): state first, each answer, then complete.
                try await client.execute(uri: "/surveys/\(id)/events", method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(response.headers[.contentType] == "text/event-stream")
                    #expect(response.headers[.cacheControl] == "no-cache")
                    let events = ParsedEvent.parse(String(buffer: response.body))
                    #expect(events.first?.name == "state")
                    #expect(events.filter { $0.name == "response" }.count == 4)
                    #expect(events.last?.name == "complete")
                    #expect(events.last?.data["status"] as? String == "complete")
                }
                await fixture.service.waitUntilIdle()
                try await client.execute(uri: "/surveys/\(id)", method: .get) { response in
                    #expect(response.status == .ok)
                    let html = String(buffer: response.body)
                    #expect(html.contains("data-events=\"/surveys/\(id)/events\""))
                    #expect(html.contains("<strong id=\"status\" class=\"status\" data-status=\"complete\""))
                    #expect(html.contains("Should we &lt;cache&gt;?"))
                    #expect(html.contains("Alpha: measure before you cache. &lt;b&gt;bold&lt;/b&gt;"))
                    #expect(html.contains("Beta again: measure hit rates."))
                    #expect(html.contains("<h3>Follow-up 1</h3>"))
                    #expect(html.contains("src=\"/surveys/\(id)/report\""))
                    #expect(!html.contains("<b>bold"))
                }
                try await client.execute(uri: "/surveys/\(id)/report", method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(response.headers[.contentSecurityPolicy]?.contains("frame-ancestors 'self'") == true)
                    #expect(response.headers[.contentSecurityPolicy]?.contains("script-src") == false)
                    let html = String(buffer: response.body)
                    #expect(html.contains("Measure before caching"))
                    // The analysed (last) turn's answers in full; quoted words are highlighted inside them.
                    #expect(html.contains("Beta again: "))
                    #expect(html.contains("Alpha again: "))
                }
                try await client.execute(uri: "/surveys/\(id)/report?format=json", method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(response.headers[.contentDisposition] == "attachment; filename=\"converge-\(id).json\"")
                    let report = try JSONDecoder().decode(ConvergeCore.Report.self, from: Data(buffer: response.body))
                    #expect(report.panelists.map(\.id) == ["alpha", "beta"])
                    #expect(report.rubric?.items.first?.id == "measure")
                }
                try await client.execute(uri: "/surveys/\(id)/report?format=pdf", method: .get) { response in
                    #expect(response.status == .badRequest)
                    #expect(String(buffer: response.body).contains("format: must be one of html, json, md, csv"))
                }
                try await client.execute(uri: "/surveys", method: .get) { response in
                    let html = String(buffer: response.body)
                    #expect(html.contains("href=\"/surveys/\(id)\""))
                    #expect(html.contains("Should we &lt;cache&gt;?"))
                    #expect(html.contains("data-status=\"complete\""))
                }

                // A follow-up from the page's form goes into each thread; then the survey is deleted.
                let followUp: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
                try await client.execute(uri: "/surveys/\(id)/follow-ups", method: .post, headers: followUp,
                                         body: ByteBuffer(string: "prompt=What+about+TTLs%3F")) { response in
                    #expect(response.status == .seeOther)
                    #expect(response.headers[.location] == "/surveys/\(id)")
                }
                await fixture.service.waitUntilIdle()
                try await client.execute(uri: "/surveys/\(id)", method: .get) { response in
                    let html = String(buffer: response.body)
                    #expect(html.contains("<h3>Follow-up 2</h3>"))
                    #expect(html.contains("What about TTLs?"))
                }
                #expect(fixture.provider.requests.count == 6)
                #expect(fixture.provider.requests.last?.messages.last?.content == "What about TTLs?")
                try await client.execute(uri: "/surveys/\(id)/delete", method: .post) { response in
                    #expect(response.status == .seeOther)
                    #expect(response.headers[.location] == "/surveys")
                }
                try await client.execute(uri: "/surveys/\(id)", method: .get) { response in
                    #expect(response.status == .notFound)
                    #expect(response.headers[.contentType]?.hasPrefix("text/html") == true)
                    #expect(String(buffer: response.body).contains("no survey with id"))
                }
            }
        }
    }

    /// A blind survey's page and its event stream show `AI 1`, `AI 2`: no panelist id, model or label, not even
    /// inside a provider's error message. The API keeps the real panel.
    @Test func aBlindSurveysPagesNameNoModel() async throws {
        try await withSurveyFixture(.sqlite) { fixture in
            fixture.provider.script("secretmodel-a", [.answer("Measure first.", delay: 0.3)])
            fixture.provider.script("secretmodel-b", [.status(400, message: "secretmodel-b does not exist for alpha-team")])
            try await fixture.app().test(.router) { client in
                let created = try await client.execute(
                    uri: "/v1/surveys", method: .post, headers: Fixture.jsonHeaders,
                    body: try Fixture.json(["prompt": "Cache?", "blind": true,
                                            "panel": [["model": "openai/secretmodel-a", "id": "alpha-team", "label": "Alpha Team"],
                                                      "openai/secretmodel-b"]]))
                let id = try #require(Fixture.object(created.body)?["id"] as? String)
                let events = try await client.execute(uri: "/surveys/\(id)/events", method: .get) { String(buffer: $0.body) }
                await fixture.service.waitUntilIdle()
                let page = try await client.execute(uri: "/surveys/\(id)", method: .get) { String(buffer: $0.body) }
                for text in [events, page] {
                    for secret in ["secretmodel", "alpha-team", "Alpha Team"] {
                        #expect(!text.contains(secret), "\(secret) in \(text.prefix(3000))")
                    }
                }
                #expect(events.contains("\"panelist\":\"ai-1\""))
                #expect(events.contains("AI 2 does not exist for AI 1"))
                #expect(page.contains("data-panelist=\"ai-2\""))
                #expect(page.contains("Panel: AI 1, AI 2"))
                #expect(page.contains("AI 2 does not exist for AI 1"))
                // The operator's API shows the panel as it is.
                try await client.execute(uri: "/v1/surveys/\(id)", method: .get) { response in
                    #expect(String(buffer: response.body).contains("secretmodel-a"))
                }
            }
        }
    }

    @Test func formErrorsNameTheFieldKeepTheFormAndStoreNothing() async throws {
        try await withSurveyFixture(.sqlite) { fixture in
            let cases: [(Multipart, HTTPResponse.Status, String)] = [
                (Self.startForm(panel: "openai/alpha\n\n# a comment\ngpt-4o"), .badRequest, "Panel, line 4: must be a model spec provider/model"),
                (Self.startForm(panel: "nope/model"), .unprocessableContent, "Panel, line 1: "),
                (Self.startForm(panel: "anthropic/claude"), .unprocessableContent, "ANTHROPIC_API_KEY"),
                (Self.startForm(panel: "  \n"), .unprocessableContent, "Panel: name at least one model"),
                (Self.startForm(rubricFile: Array("title: [".utf8)), .unprocessableContent, "rubric YAML"),
                (Self.startForm(rubricFile: [0xFF, 0xFE, 0x00]), .unprocessableContent, "Rubric file rubric.yaml: not UTF-8"),
                (Self.startForm(extra: ["rubricText": "title: x"]), .unprocessableContent, "not both"),
                (Self.startForm(extra: ["samples": "0"]), .unprocessableContent, "Samples: a whole number from 1 to 10"),
                (Self.startForm(extra: ["temperature": "hot"]), .unprocessableContent, "Temperature: a number from 0 to 2"),
            ]
            try await fixture.app().test(.router) { client in
                for (form, status, message) in cases {
                    try await client.execute(uri: "/surveys", method: .post, headers: form.headers, body: form.buffer) { response in
                        #expect(response.status == status, "\(message)")
                        let html = String(buffer: response.body)
                        #expect(html.contains("class=\"error\""), "\(message)")
                        #expect(html.contains(HTML.escape(message)), "\(message): \(html.prefix(4000))")
                        // The form comes back filled in.
                        #expect(html.contains("Should we &lt;cache&gt;?</textarea>"), "\(message)")
                        #expect(!html.contains(SurveyFixture.providerKey))
                    }
                }
                // Not a multipart form; a broken multipart body.
                try await client.execute(uri: "/surveys", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                                         body: ByteBuffer(string: "prompt=x")) { response in
                    #expect(response.status == .unsupportedMediaType)
                }
                try await client.execute(uri: "/surveys", method: .post, headers: [.contentType: "multipart/form-data; boundary=abc"],
                                         body: ByteBuffer(string: "--abc\r\nContent-Disposition: form-data\r\n\r\nx\r\n--abc--\r\n")) { response in
                    #expect(response.status == .badRequest)
                    #expect(String(buffer: response.body).contains("a part of the form has no name"))
                }
            }
            #expect(try await fixture.store.surveys(limit: 10, offset: 0).isEmpty)
            #expect(fixture.provider.requests.isEmpty)
        }
    }

    @Test func crossSiteFormPostsAreRefused() async throws {
        try await withSurveyFixture(.sqlite) { fixture in
            try await fixture.app().test(.router) { client in
                let form = Self.startForm()
                for headers: HTTPFields in [[.origin: "http://evil.example"], [.secFetchSite: "cross-site"], [.origin: "null"]] {
                    var all = form.headers
                    all.append(contentsOf: headers)
                    try await client.execute(uri: "/surveys", method: .post, headers: all, body: form.buffer) { response in
                        #expect(response.status == .forbidden)
                        #expect(Fixture.error(response.body)?.code == "forbidden")
                    }
                    try await client.execute(uri: "/analyze", method: .post,
                                             headers: [.contentType: "application/x-www-form-urlencoded"] + headers,
                                             body: ByteBuffer(string: "answer%5B%5D=Use+Go.")) { response in
                        #expect(response.status == .forbidden)
                    }
                }
                // What Chromium sends for a form on the page itself (a same-origin post); Fetch Metadata wins over
                // an `Origin: null` (sent under a no-referrer policy).
                try await client.execute(uri: "/analyze", method: .post,
                                         headers: [.contentType: "application/x-www-form-urlencoded", .secFetchSite: "same-origin",
                                                   .origin: "null"],
                                         body: ByteBuffer(string: "answer%5B%5D=Use+Go.")) { response in
                    #expect(response.status == .ok)
                }
                // A same-site navigation without Origin (older browsers, curl) is a normal post.
                try await client.execute(uri: "/analyze", method: .post,
                                         headers: [.contentType: "application/x-www-form-urlencoded", .secFetchSite: "same-origin"],
                                         body: ByteBuffer(string: "answer%5B%5D=Use+Go.")) { response in
                    #expect(response.status == .ok)
                }
            }
            #expect(try await fixture.store.surveys(limit: 10, offset: 0).isEmpty)
        }
    }

    @Test func pagesAndTheirEventStreamNeedASessionWhenTokensAreConfigured() async throws {
        try await withSurveyFixture(.sqlite, tokens: [Fixture.token]) { fixture in
            fixture.provider.script("alpha", [.answer("Alpha.")])
            try await fixture.app().test(.router) { client in
                let created = try await client.execute(uri: "/v1/surveys", method: .post,
                                                       headers: Fixture.jsonHeaders + Fixture.bearer(Fixture.token),
                                                       body: try Fixture.json(["prompt": "Cache?", "panel": ["openai/alpha"]]))
                let id = try #require(Fixture.object(created.body)?["id"] as? String)
                for path in ["/surveys", "/surveys/new", "/surveys/\(id)", "/surveys/\(id)/report"] {
                    try await client.execute(uri: path, method: .get) { response in
                        #expect(response.status == .found, "\(path)")
                        #expect(response.headers[.location]?.hasPrefix("/login?next=") == true, "\(path)")
                    }
                }
                // An EventSource cannot follow a login form: 401.
                try await client.execute(uri: "/surveys/\(id)/events", method: .get, headers: [.accept: "text/event-stream"]) { response in
                    #expect(response.status == .unauthorized)
                }
                let form = Self.startForm()
                try await client.execute(uri: "/surveys", method: .post, headers: form.headers, body: form.buffer) { response in
                    #expect(response.status == .found)
                }
                let cookie = try await client.execute(uri: "/login", method: .post,
                                                      headers: [.contentType: "application/x-www-form-urlencoded"],
                                                      body: ByteBuffer(string: "token=\(Fixture.token)&next=%2Fsurveys")) { response in
                    String(try #require(response.headers[.setCookie]).prefix { $0 != ";" })
                }
                try await client.execute(uri: "/surveys/\(id)/events", method: .get,
                                         headers: [.accept: "text/event-stream", .cookie: cookie]) { response in
                    #expect(response.status == .ok)
                    #expect(ParsedEvent.parse(String(buffer: response.body)).last?.name == "complete")
                }
                try await client.execute(uri: "/surveys/\(id)", method: .get, headers: [.cookie: cookie]) { response in
                    #expect(response.status == .ok)
                    #expect(String(buffer: response.body).contains("Alpha."))
                }
                // The session is not an API token.
                try await client.execute(uri: "/v1/surveys/\(id)", method: .get, headers: [.cookie: cookie]) { response in
                    #expect(response.status == .unauthorized)
                }
            }
            #expect(try await fixture.store.surveys(limit: 10, offset: 0).count == 1)
        }
    }

    /// Three follow-ups at once: one is asked, the others are refused (409) and nothing of theirs is stored.
    @Test func simultaneousFollowUpsStoreOnlyOne() async throws {
        try await withSurveyFixture(.sqlite) { fixture in
            fixture.provider.script("alpha", [.answer("One.")])
            try await fixture.app().test(.router) { client in
                let created = try await client.execute(uri: "/v1/surveys", method: .post, headers: Fixture.jsonHeaders,
                                                       body: try Fixture.json(["prompt": "Cache?", "panel": ["openai/alpha"]]))
                let id = try #require(Fixture.object(created.body)?["id"] as? String)
                await fixture.service.waitUntilIdle()
                let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                    for n in 1...3 {
                        group.addTask {
                            try await client.execute(uri: "/v1/surveys/\(id)/follow-ups", method: .post, headers: Fixture.jsonHeaders,
                                                     body: try Fixture.json(["prompt": "Follow-up \(n)?"])).status
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                #expect(statuses.filter { $0 == .accepted }.count == 1)
                #expect(statuses.filter { $0 == .conflict }.count == 2)
                await fixture.service.waitUntilIdle()
                #expect(try await fixture.store.turns(surveyID: id).count == 2)
            }
        }
    }

    /// Sessions are signed cookies: a restarted server (same tokens) still accepts them; other tokens do not;
    /// a signed-out or tampered cookie is refused.
    @Test func sessionsOutliveARestartButNotATokenChangeOrASignOut() async throws {
        let form: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
        let cookie = try await Fixture.app(tokens: [Fixture.token]).test(.router) { client in
            try await client.execute(uri: "/login", method: .post, headers: form,
                                     body: ByteBuffer(string: "token=\(Fixture.token)")) { response in
                String(try #require(response.headers[.setCookie]).prefix { $0 != ";" })
            }
        }
        #expect(!cookie.contains(Fixture.token))
        try await Fixture.app(tokens: [Fixture.token]).test(.router) { client in
            try await client.execute(uri: "/analyze", method: .get, headers: [.cookie: cookie]) { #expect($0.status == .ok) }
            var tampered = cookie
            tampered.removeLast()
            tampered.append(cookie.hasSuffix("0") ? "1" : "0")
            try await client.execute(uri: "/analyze", method: .get, headers: [.cookie: tampered]) { #expect($0.status == .found) }
            try await client.execute(uri: "/logout", method: .post, headers: [.cookie: cookie]) { #expect($0.status == .seeOther) }
            try await client.execute(uri: "/analyze", method: .get, headers: [.cookie: cookie]) { #expect($0.status == .found) }
        }
        try await Fixture.app(tokens: [Fixture.otherToken]).test(.router) { client in
            try await client.execute(uri: "/analyze", method: .get, headers: [.cookie: cookie]) { #expect($0.status == .found) }
        }
    }

    /// Signing out ends the live page's event stream (checked every 5 s), before the survey ends.
    @Test func signingOutEndsAnOpenPageStream() async throws {
        try await withSurveyFixture(.sqlite, tokens: [Fixture.token]) { fixture in
            fixture.provider.script("alpha", [.answer("Late.", after: "late")])
            try await fixture.app().test(.router) { client in
                let created = try await client.execute(uri: "/v1/surveys", method: .post,
                                                       headers: Fixture.jsonHeaders + Fixture.bearer(Fixture.token),
                                                       body: try Fixture.json(["prompt": "Cache?", "panel": ["openai/alpha"]]))
                let id = try #require(Fixture.object(created.body)?["id"] as? String)
                let cookie = try await client.execute(uri: "/login", method: .post,
                                                      headers: [.contentType: "application/x-www-form-urlencoded"],
                                                      body: ByteBuffer(string: "token=\(Fixture.token)")) { response in
                    String(try #require(response.headers[.setCookie]).prefix { $0 != ";" })
                }
                let events = Task {
                    try await client.execute(uri: "/surveys/\(id)/events", method: .get,
                                             headers: [.accept: "text/event-stream", .cookie: cookie]) { String(buffer: $0.body) }
                }
                try await Task.sleep(for: .milliseconds(300))
                try await client.execute(uri: "/logout", method: .post, headers: [.cookie: cookie]) { #expect($0.status == .seeOther) }
                let text = try await events.value
                #expect(text.hasPrefix("event: state\n"))
                #expect(!text.contains("event: complete"))
                fixture.provider.open(gate: "late")
                await fixture.service.waitUntilIdle()
            }
        }
    }

    @Test func repeatedFailedSignInsAreSlowedDown() async throws {
        try await Fixture.app(tokens: [Fixture.token]).test(.router) { client in
            let form: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
            for attempt in 1...5 {
                try await client.execute(uri: "/login", method: .post, headers: form,
                                         body: ByteBuffer(string: "token=wrong-token-\(attempt)-0123456789")) { response in
                    #expect(response.status == .unauthorized, "attempt \(attempt)")
                }
            }
            // Now the client must wait, even with the right token.
            try await client.execute(uri: "/login", method: .post, headers: form,
                                     body: ByteBuffer(string: "token=\(Fixture.token)")) { response in
                #expect(response.status == .tooManyRequests)
                #expect(Int(response.headers[.retryAfter] ?? "") ?? 0 >= 1)
                #expect(response.headers[.setCookie] == nil)
                #expect(String(buffer: response.body).contains("Too many failed sign-ins"))
            }
        }
    }

    @Test func theLoginThrottleBacksOffAndForgetsASuccessfulClient() async throws {
        let throttle = LoginThrottle(freeFailures: 2, maxDelay: .seconds(4))
        #expect(await throttle.delay(for: "a") == nil)
        await throttle.failed("a")
        await throttle.failed("a")
        // 2 failures: 2^0 = 1 s to wait.
        let first = try #require(await throttle.delay(for: "a"))
        #expect(first > .milliseconds(500) && first <= .seconds(1))
        #expect(await throttle.delay(for: "b") == nil)
        for _ in 0..<10 { await throttle.failed("a") }
        let capped = try #require(await throttle.delay(for: "a"))
        #expect(capped > .seconds(3) && capped <= .seconds(4))
        await throttle.succeeded("a")
        #expect(await throttle.delay(for: "a") == nil)
    }

    @Test func eventStreamsSendAHeartbeatWhileAnswersAreSlow() async throws {
        try await withSurveyFixture(.sqlite) { fixture in
            fixture.provider.script("slow", [.answer("Slow answer.", delay: 1.0)])
            let plan = try SurveyPlan(Components.Schemas.SurveyRequest(prompt: "Cache?", panel: [.ModelSpec("openai/slow")]),
                                      directory: fixture.service.directory)
            let id = try await fixture.service.create(plan)
            let stream = try await SurveyEventStream.make(service: fixture.service, id: id, heartbeat: .milliseconds(100))
            var text = ""
            for await chunk in stream { text += String(decoding: chunk, as: UTF8.self) }
            #expect(text.hasPrefix("event: state\n"))
            #expect(text.components(separatedBy: ": keep-alive\n\n").count >= 4)
            #expect(ParsedEvent.parse(text).last?.name == "complete")
        }
    }

    @Test func multipartParametersAreUnquoted() {
        #expect(FormData.parameter("boundary", of: "multipart/form-data; boundary=abc") == "abc")
        #expect(FormData.parameter("boundary", of: "multipart/form-data; charset=utf-8; boundary=\"a;b\"") == "a;b")
        #expect(FormData.parameter("filename", of: "form-data; name=\"rubric\"; filename=\"my \\\"rubric\\\".yaml\"")
            == "my \"rubric\".yaml")
        #expect(FormData.parameter("name", of: "form-data; filename=\"x\"") == nil)
    }
}

extension HTTPFields {
    static func + (lhs: HTTPFields, rhs: HTTPFields) -> HTTPFields {
        var fields = lhs
        fields.append(contentsOf: rhs)
        return fields
    }
}

@Suite struct PageErrorTests {
    @Test func theAPIsHTMLReportRunsNoScriptAndEveryResponseIsNosniff() async throws {
        try await Fixture.app().test(.router) { client in
            try await client.execute(uri: "/v1/analyses?format=html", method: .post, headers: Fixture.jsonHeaders,
                                     body: try Fixture.json(Fixture.exampleRequest())) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                let policy = try #require(response.headers[.contentSecurityPolicy])
                #expect(policy.hasPrefix("default-src 'none'") && !policy.contains("script-src"))
                #expect(response.headers[.xContentTypeOptions] == "nosniff")
            }
            try await client.execute(uri: "/v1/analyses?format=md", method: .post, headers: Fixture.jsonHeaders,
                                     body: try Fixture.json(Fixture.exampleRequest())) { response in
                #expect(response.headers[.contentType]?.hasSuffix("; charset=utf-8") == true)
            }
            try await client.execute(uri: "/v1/surveys?limit=abc", method: .get) { response in
                // The query is decoded before the handler runs (which would say 503: no store here).
                #expect(response.status == .badRequest)
                #expect(Fixture.error(response.body)?.field == "query")
                #expect(Fixture.error(response.body)?.message == "query: a query parameter is not valid (sent: limit): expected an integer")
            }
            try await client.execute(uri: "/v1/nothing", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(response.headers[.xContentTypeOptions] == "nosniff")
            }
        }
    }

    @Test func browsersGetErrorsAsPagesTheAPIAsJSON() async throws {
        try await Fixture.app(maxBodyBytes: 2048).test(.router) { client in
            try await client.execute(uri: "/no-such-page", method: .get, headers: [.accept: "text/html,*/*"]) { response in
                #expect(response.status == .notFound)
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                #expect(String(buffer: response.body).contains("<p class=\"error\" role=\"alert\">"))
            }
            try await client.execute(uri: "/analyze", method: .post,
                                     headers: [.accept: "text/html", .contentType: "application/x-www-form-urlencoded"],
                                     body: ByteBuffer(string: "answer%5B%5D=" + String(repeating: "x", count: 4000))) { response in
                #expect(response.status == .contentTooLarge)
                #expect(String(buffer: response.body).contains("larger than 2048 bytes"))
                #expect(response.headers[.contentType]?.hasPrefix("text/html") == true)
            }
            try await client.execute(uri: "/v1/no-such-route", method: .get, headers: [.accept: "text/html"]) { response in
                #expect(response.status == .notFound)
                #expect(Fixture.error(response.body)?.code == "not_found")
            }
        }
    }
}
