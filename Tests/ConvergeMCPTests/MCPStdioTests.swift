import ConvergeStore
import ConvergeTestSupport
import Foundation
import MCP
import Testing

/// `converge mcp` end to end: the built binary on pipes, driven by the Swift SDK's MCP client, against the
/// scripted loopback providers.
@Suite(.serialized) struct MCPStdioTests {
    /// Keys and base URLs of the scripted providers (fake keys: nothing real is reachable).
    static func providers(_ server: ProviderTestServer) -> [String: String] {
        ["OPENAI_API_KEY": "sk-test-secret-openai", "OPENAI_BASE_URL": server.baseURL + "/v1",
         "ANTHROPIC_API_KEY": "sk-ant-test-secret", "ANTHROPIC_BASE_URL": server.baseURL,
         "GEMINI_API_KEY": "gem-test-secret", "GEMINI_BASE_URL": server.baseURL]
    }

    @Test func listsToolsWithSchemasResourceTemplatesAndThePrompt() async throws {
        let mcp = try await StdioServer.start()
        let (tools, _) = try await mcp.client.listTools()
        #expect(Set(tools.map(\.name)) == ["analyze", "ask", "survey_get", "survey_list", "follow_up", "survey_resume",
                                            "reanalyze", "models"])
        for tool in tools {
            let schema = try #require(tool.inputSchema.objectValue, "\(tool.name)")
            #expect(schema["type"] == "object", "\(tool.name)")
            #expect(schema["properties"]?.objectValue != nil, "\(tool.name)")
            #expect(tool.description?.isEmpty == false)
        }
        let ask = try #require(tools.first { $0.name == "ask" }?.inputSchema.objectValue)
        #expect(ask["required"] == ["prompt"])
        let properties = try #require(ask["properties"]?.objectValue)
        #expect(properties["models"]?.objectValue?["type"] == "array")
        #expect(properties["samples"]?.objectValue?["type"] == "integer")
        let (templates, _) = try await mcp.client.listResourceTemplates()
        #expect(Set(templates.map(\.uriTemplate)) == ["converge://surveys/{id}/report.json", "converge://surveys/{id}/report.md"])
        let (prompts, _) = try await mcp.client.listPrompts()
        #expect(prompts.map(\.name) == ["ask_panel"])
        let prompt = try await mcp.client.getPrompt(name: "ask_panel", arguments: ["question": "Is Go a good first language?",
                                                                                     "panel": "openai/a, gemini/b"])
        guard case .text(let text) = try #require(prompt.messages.first).content else {
            Issue.record("the prompt is not text")
            return
        }
        #expect(text.contains("Is Go a good first language?") && text.contains(#"models: ["openai/a", "gemini/b"]"#))
        _ = await mcp.stop()
    }

    @Test func analyzeTheExampleFindsTheAIOmission() async throws {
        let mcp = try await StdioServer.start()
        let result = try await mcp.call("analyze", ["paths": [.string(StdioServer.example)]])
        #expect(result.isError != true, "\(result.text)")
        let report = try #require(result.json["report"] as? [String: Any])
        let omissions = try #require(report["omissions"] as? [[String: Any]])
        #expect(omissions.contains { $0["item"] as? String == "ai-tools" && $0["category"] as? String == "AI in the workflow" })
        #expect((report["panelists"] as? [[String: Any]])?.count == 3)
        #expect(result.text.contains("Omitted by every panelist") && result.text.contains("AI tools"))
        // Inline answers, blind, with the Markdown report.
        let inline = try await mcp.call("analyze", [
            "answers": [["id": "gpt", "text": "Use Redis for caching."], ["id": "claude", "text": "Add Redis caching."]],
            "prompt": "How do I speed up a web service?", "blind": true, "format": "md",
        ])
        #expect(inline.isError != true, "\(inline.text)")
        #expect(inline.text.contains("AI 1") && !inline.text.contains("claude"))
        _ = await mcp.stop()
    }

    @Test func askTheFaultPanelGivesProgressAndThreeAnsweredTwoFailed() async throws {
        let providers = try await ProviderTestServer.start()
        defer { Task { try? await providers.shutdown() } }
        providers.script("limited", [.status(429, retryAfter: "1"), .status(429, retryAfter: "1"),
                                     .answer("Use Redis for caching and profile slow queries.")])
        providers.script("broken", [.status(500), .status(500), .status(500), .status(500)])
        providers.script("stuck", [.hang, .hang, .hang])
        providers.script("fast-a", [.answer("Profile slow queries first, then add Redis caching.")])
        providers.script("fast-b", [.answer("Add caching with Redis. Use a CDN.")])
        let mcp = try await StdioServer.start(environment: Self.providers(providers))
        let token = ProgressToken.string("ask-1")
        let result = try await mcp.call("ask", [
            "prompt": "How do I speed up a web service?",
            "models": ["openai/limited", "anthropic/broken", "gemini/stuck", "openai/fast-a", "anthropic/fast-b"],
            "timeout": 1,
        ], progressToken: token)
        #expect(result.isError != true, "\(result.text)")
        let structured = result.json
        let id = try #require(structured["surveyId"] as? String)
        #expect(structured["status"] as? String == "partial")
        let report = try #require(structured["report"] as? [String: Any])
        let panelists = try #require(report["panelists"] as? [[String: Any]])
        let status = Dictionary(uniqueKeysWithValues: panelists.map { ($0["id"] as! String, $0["status"] as! String) })
        #expect(status == ["limited": "answered", "broken": "failed", "stuck": "failed", "fast-a": "answered",
                           "fast-b": "answered"])
        #expect(result.text.contains("3 of 5 panelists answered; 2 failed"))
        // Progress: the survey id at once, retries, then one step per request, ending at 5 of 5.
        let progress = await mcp.progress(of: token) { $0.last?.progress == 5 }
        #expect(progress.first?.message?.contains("survey \(id) started") == true)
        #expect(progress.first?.progress == 0 && progress.allSatisfy { $0.total == 5 })
        #expect(progress.contains { $0.message?.contains("retrying") == true })
        #expect(progress.last?.progress == 5)
        // MCP: the value MUST increase with each notification (a retry moves it halfway to the next request).
        #expect(zip(progress, progress.dropFirst()).allSatisfy { $0.progress < $1.progress }, "\(progress.map(\.progress))")
        // The survey is stored: survey_list and survey_get find it, and its report is a resource.
        let list = try await mcp.call("survey_list")
        #expect((list.json["surveys"] as? [[String: Any]])?.first?["id"] as? String == id)
        let got = try await mcp.call("survey_get", ["id": .string(id)])
        #expect((got.json["survey"] as? [String: Any])?["status"] as? String == "partial")
        #expect((got.json["report"] as? [String: Any])?["panelists"] != nil)
        let json = try await mcp.client.readResource(uri: "converge://surveys/\(id)/report.json")
        let text = try #require(json.first?.text)
        let stored = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect((stored["panelists"] as? [[String: Any]])?.filter { $0["status"] as? String == "answered" }.count == 3)
        let markdown = try await mcp.client.readResource(uri: "converge://surveys/\(id)/report.md")
        #expect(markdown.first?.mimeType?.hasPrefix("text/markdown") == true && markdown.first?.text?.contains("Redis") == true)
        let (resources, _) = try await mcp.client.listResources()
        #expect(resources.contains { $0.uri == "converge://surveys/\(id)/report.json" })
        // A follow-up and a reanalysis of the same survey.
        providers.script("limited", [.answer("Also add an index.")])
        providers.script("fast-a", [.answer("Add an index to the slow table.")])
        providers.script("fast-b", [.answer("An index helps.")])
        let followUp = try await mcp.call("follow_up", ["id": .string(id), "prompt": "And for the database?"])
        #expect(followUp.isError != true, "\(followUp.text)")
        #expect((followUp.json["report"] as? [String: Any])?["prompt"] as? String == "And for the database?")
        let again = try await mcp.call("reanalyze", ["id": .string(id)])
        #expect(again.isError != true && again.json["surveyId"] as? String == id, "\(again.text)")
        let errors = await mcp.stop()
        for secret in ["sk-test-secret-openai", "sk-ant-test-secret", "gem-test-secret"] {
            #expect(!errors.contains(secret) && !result.text.contains(secret) && !text.contains(secret))
        }
    }

    @Test func aBlindSurveyNamesNoPanelistOrModelInItsReportProgressOrResources() async throws {
        let providers = try await ProviderTestServer.start()
        defer { Task { try? await providers.shutdown() } }
        providers.script("secret-model-a", [.answer("Cache with Redis.")])
        providers.script("secret-model-b", [.answer("Use Redis as a cache.")])
        let mcp = try await StdioServer.start(environment: Self.providers(providers))
        let token = ProgressToken.string("blind")
        let result = try await mcp.call("ask", ["prompt": "Which cache?", "blind": true, "format": "md",
                                                "models": ["openai/secret-model-a", "gemini/secret-model-b"]],
                                        progressToken: token)
        #expect(result.isError != true, "\(result.text)")
        let id = try #require(result.json["surveyId"] as? String)
        let labels = ((result.json["report"] as? [String: Any])?["panelists"] as? [[String: Any]])?.map { $0["label"] as? String }
        #expect(labels == ["AI 1", "AI 2"])
        let progress = await mcp.progress(of: token) { $0.last?.progress == 2 }
        #expect(progress.count == 3)
        let got = try await mcp.call("survey_get", ["id": .string(id)])
        let resource = try await mcp.client.readResource(uri: "converge://surveys/\(id)/report.md")
        let seen = [result.text, "\(result.json)", progress.compactMap(\.message).joined(), got.text, "\(got.json)",
                    resource.first?.text ?? ""]
        for text in seen { #expect(!text.contains("secret-model"), "\(text)") }
        _ = await mcp.stop()
    }

    /// The survey id of the `ask` with progress `token`, once the quick panelist has answered and the slow one is
    /// being asked (`nil` if that does not happen before `deadline`).
    static func surveyIDOnceSlowIsAsked(_ mcp: StdioServer, _ token: ProgressToken, _ providers: ProviderTestServer,
                                        before deadline: Date) async throws -> String? {
        var id: String?
        while Date() < deadline {
            let progress = await mcp.progress(of: token)
            id = progress.first?.message?.split(separator: " ").dropFirst().first.map(String.init)
            if progress.contains(where: { $0.progress == 1 }), providers.requests(model: "slow").count == 1 { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        return id
    }

    @Test func sigtermDuringAnAskLeavesTheSurveyInterrupted() async throws {
        // Found by a fresh-user pass: SIGTERM (or the end of input) mid-ask left the survey `running`.
        let providers = try await ProviderTestServer.start()
        defer { Task { try? await providers.shutdown() } }
        providers.script("quick", [.answer("Cache with Redis.")])
        providers.script("slow", [.answer("Use a CDN.", after: "never")])
        let mcp = try await StdioServer.start(environment: Self.providers(providers))
        let token = ProgressToken.string("ask-term")
        _ = try await mcp.start("ask", ["prompt": "How do I speed up a web service?",
                                        "models": ["openai/quick", "openai/slow"], "timeout": 60], progressToken: token)
        let deadline = Date().addingTimeInterval(30)
        let surveyID = try #require(try await Self.surveyIDOnceSlowIsAsked(mcp, token, providers, before: deadline))
        #expect(await mcp.terminate() == 0)
        let store = try await openStore(try DatabaseURL(parsing: mcp.databaseURL))
        let survey = try await store.survey(id: surveyID)
        #expect(survey.status == .interrupted)
        #expect(survey.owner == nil)
        #expect(try await store.requests(surveyID: surveyID).filter { $0.state == .answered }.count == 1)
        await store.close()
    }

    @Test func cancellingAnAskLeavesTheSurveyResumable() async throws {
        let providers = try await ProviderTestServer.start()
        defer { Task { try? await providers.shutdown() } }
        providers.script("quick", [.answer("Cache with Redis.")])
        providers.script("slow", [.answer("Use a CDN.", after: "never")])
        let mcp = try await StdioServer.start(environment: Self.providers(providers))
        let token = ProgressToken.string("ask-cancel")
        let call = try await mcp.start("ask", ["prompt": "How do I speed up a web service?",
                                               "models": ["openai/quick", "openai/slow"], "timeout": 60],
                                       progressToken: token)
        // Wait until the quick panelist has answered and the slow one is being asked.
        let deadline = Date().addingTimeInterval(30)
        let surveyID = try #require(try await Self.surveyIDOnceSlowIsAsked(mcp, token, providers, before: deadline))
        try await mcp.client.cancelRequest(call.requestID, reason: "the user stopped it")
        await #expect(throws: (any Error).self) { _ = try await call.value }
        // The survey is stored as interrupted, its quick answer kept; the server goes on serving.
        var status = ""
        while Date() < deadline {
            let got = try await mcp.call("survey_get", ["id": .string(surveyID)])
            status = (got.json["survey"] as? [String: Any])?["status"] as? String ?? ""
            if status == "interrupted" {
                #expect((got.json["requests"] as? [String: Any])?["answered"] as? Int == 1)
                break
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(status == "interrupted")
        #expect(try await mcp.call("models").isError != true)
        // survey_resume asks only the panelist without an answer; cancelled again, it is interrupted again.
        let resumeToken = ProgressToken.string("resume")
        let resume = try await mcp.start("survey_resume", ["id": .string(surveyID)], progressToken: resumeToken)
        while Date() < deadline, providers.requests(model: "slow").count < 2 { try await Task.sleep(for: .milliseconds(50)) }
        let resumeProgress = await mcp.progress(of: resumeToken) { !$0.isEmpty }
        #expect(resumeProgress.first?.message?.contains("survey \(surveyID) started") == true)
        try await mcp.client.cancelRequest(resume.requestID, reason: "stopped again")
        await #expect(throws: (any Error).self) { _ = try await resume.value }
        status = ""
        while Date() < deadline, status != "interrupted" {
            let got = try await mcp.call("survey_get", ["id": .string(surveyID)])
            status = (got.json["survey"] as? [String: Any])?["status"] as? String ?? ""
            if status != "interrupted" { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(status == "interrupted")
        _ = await mcp.stop()
        // `converge surveys resume`, another process, finishes it, asking only the panelist that had not answered.
        providers.script("slow", [.answer("Use a CDN.")])
        let resumed = try await ChildProcess.run(StdioServer.binary, ["surveys", "resume", surveyID, "--db", mcp.databaseURL,
                                                                      "--format", "json", "--quiet"],
                                                 environment: mcp.environment, directory: StdioServer.repo)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(providers.requests(model: "quick").count == 1)
        #expect(providers.requests(model: "slow").count == 3)
        let report = try #require(try JSONSerialization.jsonObject(with: Data(resumed.stdout.utf8)) as? [String: Any])
        #expect((report["panelists"] as? [[String: Any]])?.allSatisfy { $0["status"] as? String == "answered" } == true)
    }

    @Test func badInputIsAToolErrorNamingTheFieldAndTheServerGoesOn() async throws {
        let providers = try await ProviderTestServer.start()
        defer { Task { try? await providers.shutdown() } }
        var environment = Self.providers(providers)
        environment["ANTHROPIC_API_KEY"] = nil
        let mcp = try await StdioServer.start(environment: environment)
        let cases: [(tool: String, arguments: [String: Value], field: String, words: String)] = [
            ("no_such_tool", [:], "name", "unknown tool `no_such_tool`"),
            ("ask", ["models": ["openai/a"]], "prompt", "is required"),
            ("ask", ["prompt": 42, "models": ["openai/a"]], "prompt", "must be a string, not a number"),
            ("ask", ["prompt": "Hi", "models": "openai/a"], "models", "must be an array of strings"),
            ("ask", ["prompt": "Hi", "models": ["openai/a"], "samples": "two"], "samples", "must be an integer"),
            ("ask", ["prompt": "Hi", "models": ["openai/a"], "samples": 0], "samples", "must be at least 1"),
            ("ask", ["prompt": "Hi", "models": ["openai/a", "anthropic/b"]], "models[1]", "ANTHROPIC_API_KEY"),
            ("ask", ["prompt": "Hi", "models": ["nonsense"]], "models[0]", "invalid model spec"),
            ("ask", ["prompt": "Hi", "modles": ["openai/a"]], "modles", "unknown argument"),
            ("survey_get", ["id": "no-such-survey"], "id", "no-such-survey"),
            ("follow_up", ["id": "no-such-survey", "prompt": "More?"], "id", "no-such-survey"),
            ("analyze", ["paths": ["/no/such/folder"]], "", "/no/such/folder"),
            ("analyze", [:], "paths", "give survey folders"),
            ("survey_list", ["limit": 0], "limit", "must be at least 1"),
            ("ask", ["prompt": "nul\u{0}here", "models": ["openai/a"]], "prompt", "must not contain NUL"),
            ("ask", ["prompt": "Hi", "models": ["openai/a"], "follow_ups": ["ok", "a\u{0}b"]], "follow_ups[1]", "NUL"),
            ("survey_get", ["id": .string(String(repeating: "a", count: 100_000))], "id", "no survey"),
        ]
        for (tool, arguments, field, words) in cases {
            let result = try await mcp.call(tool, arguments)
            #expect(result.isError == true, "\(tool) \(arguments)")
            let error = result.json["error"] as? [String: Any]
            if !field.isEmpty { #expect(error?["field"] as? String == field, "\(tool) \(arguments): \(result.text)") }
            #expect(result.text.contains(words), "\(tool) \(arguments): \(result.text)")
        }
        #expect(providers.requests.isEmpty)
        // An unknown resource is a protocol error; the server still answers the next call.
        await #expect(throws: (any Error).self) { _ = try await mcp.client.readResource(uri: "converge://surveys/nope/report.json") }
        // A message over the transport's limit (16 MiB) is dropped whole; the next one is answered.
        let pad = String(repeating: "x", count: 17 << 20)
        try await mcp.writeRaw(Data("{\"jsonrpc\":\"2.0\",\"id\":\"big\",\"method\":\"ping\",\"params\":{\"pad\":\"\(pad)\"}}\n".utf8))
        let models = try await mcp.call("models")
        #expect(models.isError != true)
        let providersList = try #require(models.json["providers"] as? [[String: Any]])
        let anthropic = providersList.first { $0["name"] as? String == "anthropic" }?["key"] as? [String: Any]
        #expect(anthropic?["set"] as? Bool == false)
        #expect(!models.text.contains("sk-test-secret-openai") && models.text.contains("OPENAI_API_KEY set"))
        #expect(mcp.isRunning)
        _ = await mcp.stop()
    }
}
