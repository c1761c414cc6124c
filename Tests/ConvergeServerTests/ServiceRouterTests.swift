import ConvergeCore
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import Yams
@testable import ConvergeServer

/// Authentication, routing errors, metrics, the spec and the pages, through the router.
@Suite struct ServiceRouterTests {
    @Test func tokensGuardTheAPIAndMetricsButNotHealthOrSpec() async throws {
        let logs = LogCapture()
        let app = try Fixture.app(tokens: [Fixture.token, Fixture.otherToken], logs: logs)
        let seen = Collected()
        try await app.test(.router) { client in
            let body = try Fixture.json(["answers": [["panelist": "a", "text": "Write tests."]]])
            for headers: HTTPFields in [[:], Fixture.bearer("wrong-token-0123456789abcdef"),
                                        Fixture.bearer(Fixture.token + "x"), Fixture.bearer(String(Fixture.token.dropLast())),
                                        [.authorization: "Basic \(Fixture.token)"], [.authorization: Fixture.token]] {
                var headers = headers
                headers[.contentType] = "application/json"
                try await client.execute(uri: "/v1/analyses", method: .post, headers: headers, body: body) { response in
                    #expect(response.status == .unauthorized)
                    #expect(response.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
                    #expect(Fixture.error(response.body)?.code == "unauthorized")
                    seen.append(String(buffer: response.body) + "\(response.headers)")
                }
            }
            for token in [Fixture.token, Fixture.otherToken] {
                var headers = Fixture.bearer(token)
                headers[.contentType] = "application/json"
                try await client.execute(uri: "/v1/analyses", method: .post, headers: headers, body: body) { response in
                    #expect(response.status == .ok)
                    seen.append(String(buffer: response.body) + "\(response.headers)")
                }
            }
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .unauthorized)
            }
            try await client.execute(uri: "/metrics", method: .get, headers: Fixture.bearer(Fixture.token)) { response in
                #expect(response.status == .ok)
                seen.append(String(buffer: response.body))
            }
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
                #expect(Fixture.object(response.body)?["status"] as? String == "ok")
            }
            try await client.execute(uri: "/openapi.yaml", method: .get) { response in
                #expect(response.status == .ok)
            }
            // Unknown API paths need the token too, then are 404.
            try await client.execute(uri: "/v1/nothing", method: .get) { response in
                #expect(response.status == .unauthorized)
            }
            try await client.execute(uri: "/v1/nothing", method: .get, headers: Fixture.bearer(Fixture.token)) { response in
                #expect(response.status == .notFound)
                #expect(Fixture.error(response.body)?.code == "not_found")
            }
        }
        for secret in [Fixture.token, Fixture.otherToken, "wrong-token-0123456789abcdef"] {
            #expect(!seen.text.contains(secret))
            #expect(!logs.text.contains(secret))
        }
        #expect(logs.text.contains("/v1/analyses"))
    }

    @Test func loopbackWithoutTokensIsOpen() async throws {
        try await Fixture.app().test(.router) { client in
            try await client.execute(uri: "/metrics", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/analyze", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/login", method: .get) { response in
                #expect(response.status == .seeOther)
                #expect(response.headers[.location] == "/")
            }
        }
    }

    @Test func unknownPathIs404AndWrongMethodIs405WithAllow() async throws {
        try await Fixture.app().test(.router) { client in
            try await client.execute(uri: "/nope", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(Fixture.error(response.body)?.code == "not_found")
            }
            try await client.execute(uri: "/v1/analyses", method: .get) { response in
                #expect(response.status == .methodNotAllowed)
                #expect(response.headers[.allow] == "POST")
                #expect(Fixture.error(response.body)?.code == "method_not_allowed")
            }
            try await client.execute(uri: "/healthz", method: .delete) { response in
                #expect(response.status == .methodNotAllowed)
                #expect(response.headers[.allow] == "GET, HEAD")
            }
            try await client.execute(uri: "/healthz", method: .head) { response in
                #expect(response.status == .ok)
                #expect(response.body.readableBytes == 0)
            }
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.headers[.requestID]?.isEmpty == false)
            }
        }
    }

    @Test func metricsCountRequestsByRouteAndStatusAndAnalyses() async throws {
        try await Fixture.app().test(.router) { client in
            let body = try Fixture.json(["answers": [["panelist": "a", "text": "Write tests."]]])
            try await client.execute(uri: "/v1/analyses", method: .post, headers: Fixture.jsonHeaders, body: body)
            try await client.execute(uri: "/v1/analyses", method: .post, headers: Fixture.jsonHeaders,
                                     body: ByteBuffer(string: "{"))
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
                let text = String(buffer: response.body)
                let lines = text.split(separator: "\n")
                func count(_ filter: (Substring) -> Bool) -> Double {
                    lines.filter { !$0.hasPrefix("#") && filter($0) }.compactMap { Double($0.split(separator: " ").last!) }.reduce(0, +)
                }
                let ok = count { $0.hasPrefix("hb_requests{") && $0.contains("http_route=\"/v1/analyses\"")
                    && $0.contains("http_response_status_code=\"200\"") }
                let bad = count { $0.hasPrefix("hb_requests{") && $0.contains("http_route=\"/v1/analyses\"")
                    && $0.contains("http_response_status_code=\"400\"") }
                #expect(ok >= 1, "\(text)")
                #expect(bad >= 1, "\(text)")
                #expect(count { $0.hasPrefix("converge_analyses{") } >= 1, "\(text)")
                #expect(text.contains("http_server_request_duration"))
            }
        }
    }

    @Test func servesTheSpecItselfAndItParses() async throws {
        try await Fixture.app().test(.router) { client in
            try await client.execute(uri: "/openapi.yaml", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("application/yaml") == true)
                let text = String(buffer: response.body)
                let source = try String(contentsOf: Fixture.repo.appendingPathComponent("Sources/ConvergeServer/API/openapi.yaml"),
                                        encoding: .utf8)
                #expect(text == source)
                let spec = try #require(try Yams.load(yaml: text) as? [String: Any])
                #expect(spec["openapi"] as? String == "3.1.0")
                let paths = try #require(spec["paths"] as? [String: Any])
                #expect(Set(paths.keys) == ["/v1/analyses", "/healthz", "/metrics", "/openapi.yaml", "/v1/surveys",
                                            "/v1/surveys/{id}", "/v1/surveys/{id}/report", "/v1/surveys/{id}/events",
                                            "/v1/surveys/{id}/follow-ups", "/v1/batches", "/v1/batches/{id}",
                                            "/v1/batches/{id}/report"])
            }
        }
    }

    /// The spec's report schema is schema/report-v1.json: every property and requirement of each `$defs` entry
    /// appears unchanged in the `ReportXxx` component of the same name (the spec may only add properties).
    @Test func reportSchemaMatchesSchemaV1() throws {
        let spec = try #require(try Yams.load(yaml: String(decoding: ConvergeAPISpec.yaml, as: UTF8.self)) as? [String: Any])
        let schemas = try #require((spec["components"] as? [String: Any])?["schemas"] as? [String: Any])
        let v1Data = try Data(contentsOf: Fixture.repo.appendingPathComponent("schema/report-v1.json"))
        let v1 = try #require(try JSONSerialization.jsonObject(with: v1Data) as? [String: Any])
        var pairs: [(String, [String: Any], [String: Any])] = [("Report", v1, try #require(schemas["Report"] as? [String: Any]))]
        for (name, definition) in try #require(v1["$defs"] as? [String: Any]) {
            let component = "Report" + name.prefix(1).uppercased() + name.dropFirst()
            pairs.append((component, try #require(definition as? [String: Any]),
                          try #require(schemas[component] as? [String: Any], "missing \(component)")))
        }
        let v1Definitions = try #require(v1["$defs"] as? [String: Any])
        var v1Keys: Set<String> = []
        func collectKeys(_ value: Any) {
            if let dict = value as? [String: Any] {
                if let properties = dict["properties"] as? [String: Any] { v1Keys.formUnion(properties.keys) }
                dict.values.forEach(collectKeys)
            } else if let array = value as? [Any] {
                array.forEach(collectKeys)
            }
        }
        collectKeys(v1)
        /// The schema with every `$ref` replaced by what it names (v1's `$defs`, the spec's components), without
        /// descriptions, and without `type` beside `enum` (the spec types v1's untyped enums as strings).
        func normalize(_ value: Any, spec: Bool) -> Any {
            if let dict = value as? [String: Any] {
                if let ref = dict["$ref"] as? String {
                    let target = spec ? schemas[String(ref.dropFirst("#/components/schemas/".count))]
                        : v1Definitions[String(ref.dropFirst("#/$defs/".count))]
                    return normalize(target ?? ref, spec: spec)
                }
                var out: [String: Any] = [:]
                for (key, item) in dict where !["description", "title", "$schema", "$id", "$defs"].contains(key) {
                    out[key] = normalize(item, spec: spec)
                }
                if out["enum"] != nil { out["type"] = nil }
                if spec, var properties = out["properties"] as? [String: Any] {
                    // Only the properties v1 has are compared; the spec's additions are checked to be optional.
                    properties = properties.filter { v1Keys.contains($0.key) }
                    out["properties"] = properties
                }
                return out
            }
            if let array = value as? [Any] { return array.map { normalize($0, spec: spec) } }
            return value
        }
        func same(_ a: Any, _ b: Any) -> Bool {
            NSDictionary(dictionary: ["v": normalize(a, spec: false)]).isEqual(to: ["v": normalize(b, spec: true)])
        }
        for (name, v1Schema, specSchema) in pairs {
            #expect(same(v1Schema, specSchema), "\(name) differs from schema/report-v1.json")
            // What the spec adds is optional: a v1 reader never misses a field.
            let v1Required = Set(v1Schema["required"] as? [String] ?? [])
            let specRequired = Set(specSchema["required"] as? [String] ?? [])
            #expect(specRequired == v1Required, "\(name)")
        }
        #expect(pairs.count == v1Definitions.count + 1)
    }

    @Test func pagesEscapeHostileText() async throws {
        let hostile = "<script>alert('x')</script><img src=x onerror=alert(1)>"
        let form = [
            "prompt=" + hostile,
            "label[]=" + hostile, "answer[]=" + hostile + " Use Go for services.",
            "label[]=", "answer[]=Use Go. " + hostile,
        ].map { pair -> String in
            let (key, value) = (pair.prefix { $0 != "=" }, pair.drop { $0 != "=" }.dropFirst())
            let allowed = CharacterSet.alphanumerics
            return key.addingPercentEncoding(withAllowedCharacters: allowed)! + "="
                + value.addingPercentEncoding(withAllowedCharacters: allowed)!
        }.joined(separator: "&")
        try await Fixture.app().test(.router) { client in
            try await client.execute(uri: "/analyze", method: .post,
                                     headers: [.contentType: "application/x-www-form-urlencoded"],
                                     body: ByteBuffer(string: form)) { response in
                #expect(response.status == .ok)
                // The HTML report itself, under a policy that allows no script at all.
                let policy = try #require(response.headers[.contentSecurityPolicy])
                #expect(policy.contains("default-src 'none'"))
                #expect(!policy.contains("script-src"))
                let html = String(buffer: response.body)
                #expect(html.contains("Converge report"))
                #expect(html.contains("convergence index"))
                #expect(!html.contains("<script"))
                #expect(!html.contains("<img"))
                #expect(html.contains("&lt;script&gt;alert("))
            }
            try await client.execute(uri: "/analyze", method: .post,
                                     headers: [.contentType: "application/x-www-form-urlencoded"],
                                     body: ByteBuffer(string: "answer%5B%5D=x&rubric=title%3A%20%5B")) { response in
                #expect(response.status == .unprocessableContent)
                #expect(String(buffer: response.body).contains("class=\"error\""))
            }
        }
    }

    @Test func pagesNeedASignInWhenTokensAreConfigured() async throws {
        try await Fixture.app(tokens: [Fixture.token]).test(.router) { client in
            try await client.execute(uri: "/analyze", method: .get) { response in
                #expect(response.status == .found)
                #expect(response.headers[.location]?.hasPrefix("/login?next=") == true)
            }
            try await client.execute(uri: "/login", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("type=\"password\""))
            }
            let form: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
            try await client.execute(uri: "/login", method: .post, headers: form,
                                     body: ByteBuffer(string: "token=not-the-token-at-all-0000&next=%2Fanalyze")) { response in
                #expect(response.status == .unauthorized)
                #expect(response.headers[.setCookie] == nil)
                #expect(!String(buffer: response.body).contains("not-the-token-at-all-0000"))
            }
            // A bearer token is not a page session.
            try await client.execute(uri: "/analyze", method: .get, headers: Fixture.bearer(Fixture.token)) { response in
                #expect(response.status == .found)
            }
            let cookie = try await client.execute(uri: "/login", method: .post, headers: form,
                                                  body: ByteBuffer(string: "token=\(Fixture.token)&next=%2F%2Fevil.example")) { response in
                #expect(response.status == .seeOther)
                #expect(response.headers[.location] == "/")
                let setCookie = try #require(response.headers[.setCookie])
                #expect(setCookie.contains("HttpOnly"))
                #expect(setCookie.contains("SameSite=Strict"))
                #expect(!setCookie.contains(Fixture.token))
                return String(setCookie.prefix { $0 != ";" })
            }
            try await client.execute(uri: "/analyze", method: .get, headers: [.cookie: cookie]) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("Sign out"))
            }
            // The session cookie does not open the API.
            try await client.execute(uri: "/metrics", method: .get, headers: [.cookie: cookie]) { response in
                #expect(response.status == .unauthorized)
            }
            try await client.execute(uri: "/logout", method: .post, headers: [.cookie: cookie]) { response in
                #expect(response.status == .seeOther)
            }
            try await client.execute(uri: "/analyze", method: .get, headers: [.cookie: cookie]) { response in
                #expect(response.status == .found)
            }
        }
    }
}

@Suite struct ConfigurationTests {
    @Test func nonLoopbackHostNeedsTokens() throws {
        for host in ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"] {
            #expect(ServerConfiguration.isLoopback(host), "\(host)")
            try ServerConfiguration(host: host).validate()
        }
        for host in ["0.0.0.0", "192.168.1.4", "::", "10.0.0.1", "example.com"] {
            #expect(!ServerConfiguration.isLoopback(host), "\(host)")
            let error = #expect(throws: InputError.self) { try ServerConfiguration(host: host).validate() }
            #expect(error?.description.contains("CONVERGE_API_TOKENS") == true)
            try ServerConfiguration(host: host, tokens: APITokens(parsing: Fixture.token)).validate()
        }
        #expect(throws: InputError.self) { try ServerConfiguration(port: 70000).validate() }
    }

    @Test func tokensParseAndCompare() throws {
        let tokens = try APITokens(parsing: " \(Fixture.token) ,, \(Fixture.otherToken),")
        #expect(tokens.count == 2)
        #expect(tokens.accepts(Fixture.token) && tokens.accepts(Fixture.otherToken))
        #expect(!tokens.accepts("") && !tokens.accepts(Fixture.token + "0") && !tokens.accepts(Fixture.token.dropLast()))
        #expect(!tokens.accepts(String(repeating: "a", count: Fixture.token.count)))
        #expect(!"\(tokens)".contains(Fixture.token))
        let short = #expect(throws: InputError.self) { try APITokens(parsing: "abc") }
        #expect(short?.description.contains("token 1") == true && short?.description.contains("abc") == false)
        #expect(throws: InputError.self) { try APITokens(parsing: "\(Fixture.token),bad token with spaces 0123") }
        #expect(try APITokens(parsing: nil).isEmpty)
        #expect(try APITokens(parsing: " , ").isEmpty)
    }
}

