import ConvergeProviders
import ConvergeTestSupport
import Foundation
import Testing

/// Real HTTP on loopback: each client against the scriptable server speaking its wire format.
@Suite struct WireFormatTests {
    static let key = "sk-test-SECRETKEY-0123456789abcdef"

    static func endpoint(_ kind: ProviderKind, _ server: ProviderTestServer, name: String? = nil,
                         key: String? = WireFormatTests.key) -> ProviderEndpoint {
        let base = kind == .openAI ? server.baseURL + "/v1" : server.baseURL
        return ProviderEndpoint(name: name ?? "test-\(kind.rawValue)", kind: kind, baseURL: base,
                                apiKey: key.map(APIKey.init))
    }

    static let thread: [ChatMessage] = [
        .system("Answer briefly."),
        .user("What is a senior backend engineer?"),
        .assistant("Someone who owns services end to end."),
        .user("And what do they leave out?"),
    ]

    static func withServer(_ body: (ProviderTestServer) async throws -> Void) async throws {
        let server = try await ProviderTestServer.start()
        do {
            try await body(server)
        } catch {
            try await server.shutdown()
            throw error
        }
        try await server.shutdown()
    }

    @Test func openAISendsTheThreadParametersAndBearerKey() async throws {
        try await Self.withServer { server in
            let provider = OpenAIChatProvider(endpoint: Self.endpoint(.openAI, server))
            let request = ChatRequest(model: "gpt-test", messages: Self.thread,
                                      parameters: GenerationParameters(temperature: 0.3, maxTokens: 256, topP: 0.9,
                                                                       seed: 7, stop: ["END"]))
            let response = try await provider.complete(request, timeout: .seconds(5))
            #expect(response.text == "answer 1 from gpt-test to: And what do they leave out?")
            #expect(response.finishReason == "stop")
            #expect(response.inputTokens == 21) // words in the four messages
            #expect(response.outputTokens == 11)
            #expect(response.requestID == "req-1")
            #expect(response.model == "gpt-test")
            #expect(response.latencyMs >= 0 && response.latencyMs < 5000)

            let received = try #require(server.requests.first)
            #expect(server.requests.count == 1)
            #expect(received.method == "POST")
            #expect(received.uri == "/v1/chat/completions")
            #expect(received.header("Authorization") == "Bearer \(Self.key)")
            #expect(received.header("Content-Type") == "application/json")
            #expect(received.header("x-api-key") == nil)
            #expect(received.messages == Self.thread.map { RecordedMessage(role: $0.role.rawValue, content: $0.content) })
            let json = try #require(received.json)
            #expect(json["model"]?.string == "gpt-test")
            #expect(json["temperature"]?.double == 0.3)
            #expect(json["max_tokens"]?.int == 256)
            #expect(json["max_completion_tokens"] == nil)
            #expect(json["top_p"]?.double == 0.9)
            #expect(json["seed"]?.int == 7)
            #expect(json["stop"]?[0]?.string == "END")
            #expect(json["stream"]?.bool == false)
        }
    }

    @Test func theOpenAIProviderItselfGetsMaxCompletionTokensAndUnsetParametersAreNotSent() async throws {
        try await Self.withServer { server in
            let provider = OpenAIChatProvider(endpoint: Self.endpoint(.openAI, server, name: "openai"))
            _ = try await provider.complete(ChatRequest(model: "m", messages: [.user("hi")],
                                                        parameters: GenerationParameters(maxTokens: 99)),
                                            timeout: .seconds(5))
            let json = try #require(server.requests.first?.json)
            #expect(json["max_completion_tokens"]?.int == 99)
            #expect(json["max_tokens"] == nil)
            #expect(json["temperature"] == nil)
            #expect(json["seed"] == nil)
        }
    }

    @Test func aKeylessLocalServerGetsNoAuthorizationHeader() async throws {
        try await Self.withServer { server in
            let provider = OpenAIChatProvider(endpoint: Self.endpoint(.openAI, server, name: "ollama", key: nil))
            _ = try await provider.complete(ChatRequest(model: "llama3.2", messages: [.user("hi")]), timeout: .seconds(5))
            #expect(server.requests.first?.header("authorization") == nil)
        }
    }

    @Test func anthropicSendsSystemSeparatelyWithVersionAndKeyHeaders() async throws {
        try await Self.withServer { server in
            let provider = AnthropicProvider(endpoint: Self.endpoint(.anthropic, server))
            let response = try await provider.complete(
                ChatRequest(model: "claude-test", messages: Self.thread,
                            parameters: GenerationParameters(temperature: 1, topP: 0.5, seed: 3, stop: ["STOP"])),
                timeout: .seconds(5))
            #expect(response.text == "answer 1 from claude-test to: And what do they leave out?")
            #expect(response.finishReason == "end_turn")
            #expect(response.requestID == "req-1")
            #expect(response.inputTokens == 21)
            #expect(response.outputTokens == 11)

            let received = try #require(server.requests.first)
            #expect(received.uri == "/v1/messages")
            #expect(received.header("x-api-key") == Self.key)
            #expect(received.header("anthropic-version") == "2023-06-01")
            #expect(received.header("authorization") == nil)
            let json = try #require(received.json)
            #expect(json["system"]?.string == "Answer briefly.")
            #expect(json["messages"]?.array?.count == 3) // the system message is not in `messages`
            #expect(json["messages"]?[0]?["role"]?.string == "user")
            #expect(json["messages"]?[1]?["role"]?.string == "assistant")
            #expect(json["max_tokens"]?.int == AnthropicProvider.defaultMaxTokens)
            #expect(json["temperature"]?.double == 1)
            #expect(json["top_p"]?.double == 0.5)
            #expect(json["stop_sequences"]?[0]?.string == "STOP")
            #expect(json["seed"] == nil)
            #expect(received.messages == Self.thread.map { RecordedMessage(role: $0.role.rawValue, content: $0.content) })
        }
    }

    @Test func geminiPutsTheModelInThePathAndTheKeyInAHeaderOnly() async throws {
        try await Self.withServer { server in
            let provider = GeminiProvider(endpoint: Self.endpoint(.gemini, server))
            let response = try await provider.complete(
                ChatRequest(model: "gemini-test", messages: Self.thread,
                            parameters: GenerationParameters(temperature: 0.2, maxTokens: 128, seed: 11)),
                timeout: .seconds(5))
            #expect(response.text == "answer 1 from gemini-test to: And what do they leave out?")
            #expect(response.finishReason == "STOP")
            #expect(response.requestID == "resp-1")
            #expect(response.inputTokens == 21)
            #expect(response.outputTokens == 11)

            let received = try #require(server.requests.first)
            #expect(received.uri == "/v1beta/models/gemini-test:generateContent")
            #expect(!received.uri.contains("key="))
            #expect(received.header("x-goog-api-key") == Self.key)
            #expect(received.header("authorization") == nil)
            let json = try #require(received.json)
            #expect(json["systemInstruction"]?["parts"]?[0]?["text"]?.string == "Answer briefly.")
            #expect(json["contents"]?[1]?["role"]?.string == "model")
            #expect(json["generationConfig"]?["temperature"]?.double == 0.2)
            #expect(json["generationConfig"]?["maxOutputTokens"]?.int == 128)
            #expect(json["generationConfig"]?["seed"]?.int == 11)
            #expect(received.messages == Self.thread.map { RecordedMessage(role: $0.role.rawValue, content: $0.content) })
        }
    }

    @Test func anAnswerThatEchoesTheKeyHasItRedacted() async throws {
        // Found by a fresh-user pass: a judge reply that echoed the key put it into the report.
        try await Self.withServer { server in
            let providers: [any LLMProvider] = [OpenAIChatProvider(endpoint: Self.endpoint(.openAI, server)),
                                                AnthropicProvider(endpoint: Self.endpoint(.anthropic, server)),
                                                GeminiProvider(endpoint: Self.endpoint(.gemini, server))]
            for (n, provider) in providers.enumerated() {
                server.script("echo-\(n)", [.answer("Your key is \(Self.key); keep the piece 0123456789ab of it.")])
                let response = try await provider.complete(ChatRequest(model: "echo-\(n)", messages: Self.thread),
                                                           timeout: .seconds(5))
                #expect(response.text == "Your key is <redacted>; keep the piece 0123456789ab of it.", "\(provider.name)")
            }
        }
    }

    @Test func jsonModeIsEachWireFormatsOwnFieldAndAbsentOtherwise() async throws {
        try await Self.withServer { server in
            let json = GenerationParameters(temperature: 0, responseFormat: .json)
            let plain = GenerationParameters(temperature: 0)
            for parameters in [json, plain] {
                _ = try await OpenAIChatProvider(endpoint: Self.endpoint(.openAI, server))
                    .complete(ChatRequest(model: "gpt-test", messages: Self.thread, parameters: parameters), timeout: .seconds(5))
                _ = try await GeminiProvider(endpoint: Self.endpoint(.gemini, server))
                    .complete(ChatRequest(model: "gemini-test", messages: Self.thread, parameters: parameters), timeout: .seconds(5))
                _ = try await AnthropicProvider(endpoint: Self.endpoint(.anthropic, server))
                    .complete(ChatRequest(model: "claude-test", messages: Self.thread, parameters: parameters), timeout: .seconds(5))
            }
            let bodies = server.requests.compactMap(\.json)
            try #require(bodies.count == 6)
            #expect(bodies[0]["response_format"]?["type"]?.string == "json_object")
            #expect(bodies[1]["generationConfig"]?["responseMimeType"]?.string == "application/json")
            #expect(bodies[2].object?.keys.contains { $0.lowercased().contains("format") || $0.contains("mime") } == false,
                    "Anthropic has no JSON mode: nothing is sent")
            #expect(bodies[3]["response_format"] == nil)
            #expect(bodies[4]["generationConfig"]?["responseMimeType"] == nil)
            #expect(bodies[5] == bodies[2])
        }
    }

    @Test func builtInProvidersFollowTheirBaseURLVariables() async throws {
        try await Self.withServer { server in
            let directory = ProviderDirectory(environment: [
                "OPENAI_API_KEY": "k-openai-123456789", "OPENAI_BASE_URL": server.baseURL + "/v1",
                "ANTHROPIC_API_KEY": "k-anthropic-123456789", "ANTHROPIC_BASE_URL": server.baseURL,
                "GEMINI_API_KEY": "k-gemini-123456789", "GEMINI_BASE_URL": server.baseURL,
                "OPENROUTER_API_KEY": "k-openrouter-123456789", "OPENROUTER_BASE_URL": server.baseURL + "/api/v1",
            ])
            for spec in ["openai/gpt-4o", "anthropic/claude-sonnet-4-5", "gemini/gemini-2.5-pro",
                         "openrouter/meta-llama/llama-3.3-70b-instruct"] {
                let parsed = try ModelSpec(parsing: spec)
                let provider = try directory.provider(for: parsed)
                let response = try await provider.complete(ChatRequest(model: parsed.model, messages: [.user("hi")]),
                                                           timeout: .seconds(5))
                #expect(response.text.contains("from \(parsed.model) to: hi"))
            }
            let uris = server.requests.map(\.uri)
            #expect(uris == ["/v1/chat/completions", "/v1/messages", "/v1beta/models/gemini-2.5-pro:generateContent",
                             "/api/v1/chat/completions"])
            #expect(server.requests[0].header("authorization") == "Bearer k-openai-123456789")
            #expect(server.requests[1].header("x-api-key") == "k-anthropic-123456789")
            #expect(server.requests[2].header("x-goog-api-key") == "k-gemini-123456789")
            #expect(server.requests[3].header("authorization") == "Bearer k-openrouter-123456789")
            #expect(server.requests[3].json?["model"]?.string == "meta-llama/llama-3.3-70b-instruct")
        }
    }

    static func provider(_ kind: ProviderKind, _ server: ProviderTestServer) -> any LLMProvider {
        ProviderFactory.make(endpoint: endpoint(kind, server))
    }

    static func failure(_ kind: ProviderKind, _ steps: [ScriptStep], timeout: Duration = .seconds(5))
        async throws -> (ProviderError, [RecordedRequest]) {
        let server = try await ProviderTestServer.start()
        server.script("m", steps)
        let outcome: Result<ChatResponse, any Error>
        do {
            outcome = .success(try await provider(kind, server).complete(
                ChatRequest(model: "m", messages: [.user("hi")]), timeout: timeout))
        } catch {
            outcome = .failure(error)
        }
        let received = server.requests
        try await server.shutdown()
        switch outcome {
        case .success(let response):
            Issue.record("expected a failure, got \(response)")
            return (.cancelled, received)
        case .failure(let error):
            let providerError = try #require(error as? ProviderError, "not a ProviderError: \(error)")
            return (providerError, received)
        }
    }

    @Test(arguments: ProviderKind.allCases)
    func rateLimitCarriesRetryAfterAndIsRetryable(_ kind: ProviderKind) async throws {
        let (error, received) = try await Self.failure(kind, [.status(429, message: "slow down", retryAfter: "7")])
        guard case .http(let status, let message, let retryAfter, _) = error else {
            Issue.record("expected .http, got \(error)")
            return
        }
        #expect(status == 429)
        #expect(message == "slow down")
        #expect(retryAfter == 7)
        #expect(error.isRetryable)
        #expect(received.count == 1) // the client itself never retries
    }

    @Test(arguments: ProviderKind.allCases)
    func retryAfterAsAnHTTPDateIsRead(_ kind: ProviderKind) async throws {
        let when = Date().addingTimeInterval(120)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        let (error, _) = try await Self.failure(kind, [.status(503, retryAfter: formatter.string(from: when))])
        let seconds = try #require(error.retryAfter)
        #expect(seconds > 110 && seconds <= 120)
        #expect(error.isRetryable)
    }

    @Test(arguments: ProviderKind.allCases)
    func badRequestIsFinal(_ kind: ProviderKind) async throws {
        let (error, _) = try await Self.failure(kind, [.status(400, message: "bad parameter: temperature")])
        #expect(error == .http(status: 400, message: "bad parameter: temperature", retryAfter: nil,
                               requestID: nil))
        #expect(!error.isRetryable)
    }

    @Test(arguments: ProviderKind.allCases)
    func serverErrorIsRetryable(_ kind: ProviderKind) async throws {
        let (error, _) = try await Self.failure(kind, [.status(500, message: "boom")])
        #expect(error.description.hasPrefix("HTTP 500: boom"))
        #expect(error.isRetryable)
    }

    @Test(arguments: ProviderKind.allCases)
    func aConnectionCutMidBodyIsAConnectionError(_ kind: ProviderKind) async throws {
        let (error, received) = try await Self.failure(kind, [.cutMidBody])
        guard case .connection = error else {
            Issue.record("expected .connection, got \(error)")
            return
        }
        #expect(error.isRetryable)
        #expect(received.count == 1)
    }

    @Test(arguments: ProviderKind.allCases)
    func malformedJSONIsReportedNotRetried(_ kind: ProviderKind) async throws {
        let (error, _) = try await Self.failure(kind, [.malformedJSON])
        guard case .malformedResponse(let message) = error else {
            Issue.record("expected .malformedResponse, got \(error)")
            return
        }
        #expect(message.contains("broken"))
        #expect(!error.isRetryable)
    }

    @Test(arguments: ProviderKind.allCases)
    func anEmptyChoiceListIsAnEmptyResponse(_ kind: ProviderKind) async throws {
        let (error, _) = try await Self.failure(kind, [.emptyChoices])
        guard case .emptyResponse = error else {
            Issue.record("expected .emptyResponse, got \(error)")
            return
        }
        #expect(!error.isRetryable)
    }

    @Test(arguments: ProviderKind.allCases)
    func aHangingServerTimesOut(_ kind: ProviderKind) async throws {
        let clock = ContinuousClock()
        let start = clock.now
        let (error, received) = try await Self.failure(kind, [.hang], timeout: .milliseconds(600))
        #expect(error == .timeout(seconds: 0.6))
        #expect(error.isRetryable)
        #expect(received.count == 1)
        #expect(clock.now - start < .seconds(5))
    }

    @Test(arguments: ProviderKind.allCases)
    func aSlowAnswerWithinTheTimeoutArrives(_ kind: ProviderKind) async throws {
        try await Self.withServer { server in
            server.script("m", [.answer("late but fine", delay: 0.3)])
            let response = try await Self.provider(kind, server).complete(ChatRequest(model: "m", messages: [.user("x")]),
                                                                          timeout: .seconds(5))
            #expect(response.text == "late but fine")
            #expect(response.latencyMs >= 300)
        }
    }

    @Test(arguments: ProviderKind.allCases)
    func theKeyNeverAppearsInAnError(_ kind: ProviderKind) async throws {
        let (error, received) = try await Self.failure(kind, [.echoCredentials])
        // The server really did quote the key back ...
        #expect(received.count == 1)
        // ... and the client scrubbed it, whole and in pieces.
        guard case .http(401, let message, _, _) = error else {
            Issue.record("expected HTTP 401, got \(error)")
            return
        }
        #expect(message.contains("Incorrect API key provided"))
        for text in [error.description, String(reflecting: error), message, "\(error)"] {
            #expect(!text.contains(Self.key))
            #expect(!text.contains("SECRETKEY"))
            #expect(!text.contains("0123456789abcdef"))
        }
    }

    @Test(arguments: ProviderKind.allCases)
    func redirectsAreNotFollowedSoKeysStayWithTheConfiguredHost(_ kind: ProviderKind) async throws {
        try await Self.withServer { elsewhere in
            let (error, received) = try await Self.failure(kind, [.redirect(to: elsewhere.baseURL)])
            #expect(received.count == 1)
            #expect(elsewhere.requests.isEmpty)
            guard case .http(307, _, _, _) = error else {
                Issue.record("expected HTTP 307, got \(error)")
                return
            }
            #expect(!error.isRetryable)
        }
    }

    @Test func theRedactorRemovesTheKeyAndAnyLongPieceOfIt() {
        let redactor = Redactor(secrets: ["sk-proj-ABCDEFGHIJKLMNOP", ""])
        #expect(redactor.redact("key sk-proj-ABCDEFGHIJKLMNOP is bad") == "key <redacted> is bad")
        let piece = redactor.redact("provided: ...DEFGHIJKLM... and nothing else")
        #expect(!piece.contains("DEFGHIJK"))
        #expect(piece.hasSuffix("and nothing else"))
        #expect(redactor.redact("unrelated text stays") == "unrelated text stays")
    }

    @Test func aRefusedConnectionIsAConnectionError() async throws {
        // Start and stop a server to get a loopback port nobody listens on.
        let server = try await ProviderTestServer.start()
        let endpoint = Self.endpoint(.openAI, server)
        try await server.shutdown()
        let clock = ContinuousClock()
        let start = clock.now
        defer { #expect(clock.now - start < .seconds(10), "a refused connection fails at once, not at the deadline") }
        do {
            _ = try await OpenAIChatProvider(endpoint: endpoint).complete(ChatRequest(model: "m", messages: [.user("x")]),
                                                                         timeout: .seconds(30))
            Issue.record("expected a connection error")
        } catch let error as ProviderError {
            guard case .connection = error else {
                Issue.record("expected .connection, got \(error)")
                return
            }
            #expect(!error.description.contains(Self.key))
        }
    }

    @Test func cancellingTheCallingTaskCancelsTheRequest() async throws {
        try await Self.withServer { server in
            server.script("m", [.hang])
            let provider = Self.provider(.anthropic, server)
            let task = Task { try await provider.complete(ChatRequest(model: "m", messages: [.user("x")]), timeout: .seconds(30)) }
            while server.requests.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
            task.cancel()
            let clock = ContinuousClock()
            let start = clock.now
            let result = await task.result
            #expect(clock.now - start < .seconds(5))
            #expect(throws: ProviderError.cancelled) { try result.get() }
        }
    }
}
