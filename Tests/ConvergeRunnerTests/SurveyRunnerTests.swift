import ConvergeCore
import ConvergeProviders
import ConvergeRunner
import ConvergeTestSupport
import Foundation
import Testing

@Suite struct SurveyRunnerTests {
    /// The issue's "must show": a panel of five where one is rate-limited twice then answers, one fails with
    /// 500 every time, one hangs past the timeout, and two answer at once. The survey ends with three answers
    /// and two failures, each failure's cause recorded.
    @Test func mustShowFivePanelistsThreeAnswersTwoFailures() async throws {
        try await withServers(3) { servers in
            let (openAI, anthropic, gemini) = (servers[0], servers[1], servers[2])
            openAI.script("rate-limited", [.status(429, message: "rate limit reached", retryAfter: "1"),
                                           .status(429, message: "rate limit reached", retryAfter: "1"),
                                           .answer("finally here")])
            anthropic.script("broken", [.status(500, message: "internal server error")])
            gemini.script("hanging", [.hang])
            let config = try testConfig(openAI: openAI, anthropic: anthropic, gemini: gemini, extra: """
            panels:
              must-show:
                - fake-openai/rate-limited
                - fake-anthropic/broken
                - fake-gemini/hanging
                - {model: fake-openai/quick-a, id: quick-a}
                - {model: fake-gemini/quick-b, id: quick-b}
            """)
            let directory = ProviderDirectory(config: config, environment: testEnvironment)
            let panelists = PanelEntry.panelists(for: try config.panel(named: "must-show"))
            let members = try SurveyRunner.members(for: panelists, directory: directory)
            let options = RunnerOptions(timeout: .seconds(1),
                                        retry: RetryPolicy(maxAttempts: 3, baseDelay: 0.05, maxDelay: 0.2,
                                                           maxRetryAfter: 5))
            let runner = try SurveyRunner(members: members, options: options)
            let (result, log) = await runCollecting(runner, Survey(prompt: "What does a senior backend engineer do?"))

            #expect(result.answerCount == 3)
            #expect(result.failureCount == 2)
            #expect(!result.allAnswered)
            #expect(!result.cancelled)
            #expect(result.turns[0].answers().map(\.panelist.id) == ["rate-limited", "quick-a", "quick-b"])

            // Rate-limited twice, then answered on the third attempt, waiting the server's Retry-After.
            guard case .answered(let late, let attempts) = result.outcome(turn: 0, panelistID: "rate-limited") else {
                Issue.record("rate-limited should have answered")
                return
            }
            #expect(late.text == "finally here")
            #expect(attempts == 3)
            let retries = await log.retries(of: "rate-limited")
            #expect(retries.map(\.attempt) == [1, 2])
            #expect(retries.map(\.delay) == [1, 1])
            #expect(retries.allSatisfy { $0.reason.contains("HTTP 429") })
            #expect(openAI.requests(model: "rate-limited").count == 3)

            // 500 every time: tried maxAttempts times, the cause names the status and the server's message.
            let broken = try #require(result.outcome(turn: 0, panelistID: "broken")?.failure)
            #expect(broken.cause.contains("HTTP 500: internal server error"))
            #expect(broken.cause.contains("gave up after 3 attempts"))
            #expect(broken.attempts == 3)
            #expect(broken.error?.isRetryable == true)
            #expect(anthropic.requests(model: "broken").count == 3)

            // Hanging: each attempt timed out after 1 s.
            let hanging = try #require(result.outcome(turn: 0, panelistID: "hanging")?.failure)
            #expect(hanging.error == .timeout(seconds: 1))
            #expect(hanging.cause.contains("timed out after 1 s"))
            #expect(hanging.attempts == 3)
            #expect(gemini.requests(model: "hanging").count == 3)

            // The two quick ones answered at the first attempt, unaffected by the others.
            for (id, server, model) in [("quick-a", openAI, "quick-a"), ("quick-b", gemini, "quick-b")] {
                guard case .answered(let response, let attempts) = result.outcome(turn: 0, panelistID: id) else {
                    Issue.record("\(id) should have answered")
                    continue
                }
                #expect(attempts == 1)
                #expect(response.text == "answer 1 from \(model) to: What does a senior backend engineer do?")
                #expect(server.requests(model: model).count == 1)
            }

            // Events: every request started, and ended exactly once as answered or failed.
            let answered = await log.count { if case .answered = $0 { true } else { false } }
            let failed = await log.count { if case .failed = $0 { true } else { false } }
            let started = await log.count { if case .started = $0 { true } else { false } }
            #expect(answered == 3)
            #expect(failed == 2)
            #expect(started == 3 + 3 + 3 + 1 + 1)

            // Each server saw its own key in its own header, and nothing else.
            #expect(openAI.requests.allSatisfy { $0.header("authorization") == "Bearer sk-fake-openai-0123456789" })
            #expect(anthropic.requests.allSatisfy { $0.header("x-api-key") == "sk-ant-fake-0123456789" })
            #expect(gemini.requests.allSatisfy { $0.header("x-goog-api-key") == "AIza-fake-gemini-0123456789" })
        }
    }

    /// Follow-ups carry each thread's own history; with `samples: 2` each sample is its own thread.
    @Test func followUpsSendEachThreadItsOwnEarlierTurns() async throws {
        try await withServers(3) { servers in
            let config = try testConfig(openAI: servers[0], anthropic: servers[1], gemini: servers[2])
            let directory = ProviderDirectory(config: config, environment: testEnvironment)
            let panelists = ModelSpec.panelists(for: try ["fake-openai/alpha", "fake-anthropic/beta", "fake-gemini/gamma"]
                .map { try ModelSpec(parsing: $0) })
            let runner = try SurveyRunner(members: try SurveyRunner.members(for: panelists, directory: directory),
                                          options: RunnerOptions(samples: 2, timeout: .seconds(5),
                                                                 parameters: GenerationParameters(temperature: 0.7)))
            let survey = Survey(prompt: "First question?", followUps: ["Second question?", "Third question?"],
                                system: "Be brief.")
            let (result, _) = await runCollecting(runner, survey)
            #expect(result.allAnswered)
            #expect(result.answerCount == 3 * 2 * 3)
            #expect(result.turns.map(\.prompt) == survey.turns)

            for (server, model, panelistID) in [(servers[0], "alpha", "alpha"), (servers[1], "beta", "beta"),
                                                (servers[2], "gamma", "gamma")] {
                let received = server.requests(model: model)
                #expect(received.count == 6)
                for sample in 0..<2 {
                    let first = try #require(result.outcome(turn: 0, panelistID: panelistID, sample: sample)?.response)
                    let second = try #require(result.outcome(turn: 1, panelistID: panelistID, sample: sample)?.response)
                    // The third-turn request of this sample carries exactly this sample's thread.
                    let third = received.filter { $0.messages.count == 6 && $0.messages[2].content == first.text }
                    try #require(third.count == 1, "one third-turn request continues \(first.text)")
                    #expect(third[0].messages == [
                        RecordedMessage(role: "system", content: "Be brief."),
                        RecordedMessage(role: "user", content: "First question?"),
                        RecordedMessage(role: "assistant", content: first.text),
                        RecordedMessage(role: "user", content: "Second question?"),
                        RecordedMessage(role: "assistant", content: second.text),
                        RecordedMessage(role: "user", content: "Third question?"),
                    ])
                }
                // The two samples' answers differ, so the threads really are separate.
                let samples = (0..<2).compactMap { result.outcome(turn: 0, panelistID: panelistID, sample: $0)?.response?.text }
                #expect(Set(samples).count == 2)
            }
            #expect(servers[0].requests.allSatisfy { $0.json?["temperature"]?.double == 0.7 })
            #expect(servers[1].requests.allSatisfy { $0.json?["temperature"]?.double == 0.7 })
            #expect(servers[2].requests.allSatisfy { $0.json?["generationConfig"]?["temperature"]?.double == 0.7 })
        }
    }

    @Test func aFailedTurnEndsOnlyItsOwnThread() async throws {
        try await withServers(3) { servers in
            servers[0].script("flaky", [.answer(), .status(400, message: "context too long")])
            let config = try testConfig(openAI: servers[0], anthropic: servers[1], gemini: servers[2])
            let directory = ProviderDirectory(config: config, environment: testEnvironment)
            let panelists = [Panelist(id: "flaky", model: "fake-openai/flaky"), Panelist(id: "steady", model: "fake-gemini/steady")]
            let runner = try SurveyRunner(members: try SurveyRunner.members(for: panelists, directory: directory),
                                          options: RunnerOptions(timeout: .seconds(5)))
            let (result, _) = await runCollecting(runner, Survey(prompt: "one", followUps: ["two", "three"]))
            #expect(result.outcome(turn: 0, panelistID: "flaky")?.response != nil)
            let second = try #require(result.outcome(turn: 1, panelistID: "flaky")?.failure)
            #expect(second.cause == "HTTP 400: context too long")
            #expect(second.attempts == 1) // 400 is not retried
            let third = try #require(result.outcome(turn: 2, panelistID: "flaky")?.failure)
            #expect(third.cause.hasPrefix("not asked: turn 2 failed"))
            #expect(third.attempts == 0)
            #expect(servers[0].requests(model: "flaky").count == 2)
            #expect((0..<3).allSatisfy { result.outcome(turn: $0, panelistID: "steady")?.response != nil })
        }
    }

    @Test func noRetryOn400ButRetriesOnConnectionCutsAndEmptyIsFinal() async throws {
        try await withServers(3) { servers in
            servers[0].script("bad", [.status(400, message: "invalid model")])
            servers[0].script("cut", [.cutMidBody, .answer("second try")])
            servers[1].script("empty", [.emptyChoices])
            servers[2].script("garbled", [.malformedJSON])
            let config = try testConfig(openAI: servers[0], anthropic: servers[1], gemini: servers[2])
            let directory = ProviderDirectory(config: config, environment: testEnvironment)
            let panelists = [Panelist(id: "bad", model: "fake-openai/bad"), Panelist(id: "cut", model: "fake-openai/cut"),
                             Panelist(id: "empty", model: "fake-anthropic/empty"),
                             Panelist(id: "garbled", model: "fake-gemini/garbled")]
            let runner = try SurveyRunner(
                members: try SurveyRunner.members(for: panelists, directory: directory),
                options: RunnerOptions(timeout: .seconds(5), retry: RetryPolicy(maxAttempts: 4, baseDelay: 0.01)))
            let (result, _) = await runCollecting(runner, Survey(prompt: "q"))
            #expect(result.outcome(turn: 0, panelistID: "bad")?.failure?.cause == "HTTP 400: invalid model")
            #expect(servers[0].requests(model: "bad").count == 1)
            guard case .answered(let response, let attempts) = result.outcome(turn: 0, panelistID: "cut") else {
                Issue.record("cut should be retried and answer")
                return
            }
            #expect(response.text == "second try")
            #expect(attempts == 2)
            #expect(result.outcome(turn: 0, panelistID: "empty")?.failure?.cause.hasPrefix("empty response") == true)
            #expect(servers[1].requests(model: "empty").count == 1)
            #expect(result.outcome(turn: 0, panelistID: "garbled")?.failure?.cause.hasPrefix("malformed response") == true)
            #expect(servers[2].requests(model: "garbled").count == 1)
        }
    }

    @Test func connectionErrorsAreRetriedWithBackoffThenReported() async throws {
        // A port nobody listens on: start a server, note its URL, stop it.
        let gone = try await ProviderTestServer.start()
        try await gone.shutdown()
        let config = try ConvergeConfig(yaml: """
        providers:
          down:
            kind: openai
            base_url: \(gone.baseURL)/v1
        """)
        let runner = try SurveyRunner(
            members: try SurveyRunner.members(for: [Panelist(id: "down", model: "down/m")],
                                              directory: ProviderDirectory(config: config, environment: [:])),
            options: RunnerOptions(timeout: .seconds(20), retry: RetryPolicy(maxAttempts: 3, baseDelay: 0.02)))
        let (result, log) = await runCollecting(runner, Survey(prompt: "q"))
        let failure = try #require(result.outcome(turn: 0, panelistID: "down")?.failure)
        #expect(failure.attempts == 3)
        #expect(failure.cause.hasPrefix("connection error: Connection refused (errno "), "\(failure.cause)")
        #expect(failure.cause.hasSuffix("(gave up after 3 attempts)"))
        let retries = await log.retries(of: "down")
        #expect(retries.map(\.attempt) == [1, 2])
        #expect(retries[0].delay <= 0.02 && retries[1].delay <= 0.04) // full jitter under base * 2^n
    }

    @Test func retryAfterAsAnHTTPDateIsWaitedFor() async throws {
        try await withServers(3) { servers in
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "GMT")
            formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
            let date = formatter.string(from: Date().addingTimeInterval(2))
            servers[1].script("limited", [.status(429, retryAfter: date), .answer("ok")])
            let config = try testConfig(openAI: servers[0], anthropic: servers[1], gemini: servers[2])
            let directory = ProviderDirectory(config: config, environment: testEnvironment)
            let runner = try SurveyRunner(
                members: try SurveyRunner.members(for: [Panelist(id: "limited", model: "fake-anthropic/limited")],
                                                  directory: directory),
                options: RunnerOptions(timeout: .seconds(5), retry: RetryPolicy(maxAttempts: 2, baseDelay: 0)))
            let (result, log) = await runCollecting(runner, Survey(prompt: "q"))
            #expect(result.allAnswered)
            let delays = await log.retries(of: "limited").map(\.delay)
            try #require(delays.count == 1)
            #expect(delays[0] > 0.5 && delays[0] <= 2) // the date has whole-second precision
            let received = servers[1].requests(model: "limited")
            #expect(received.count == 2)
            // The second attempt came no earlier than the server asked.
            #expect(received[1].receivedAt.timeIntervalSince(received[0].receivedAt) >= delays[0] - 0.05)
        }
    }

    @Test func aRetryAfterBeyondTheCapEndsTheAttempts() async throws {
        try await withServers(3) { servers in
            servers[0].script("patient", [.status(429, retryAfter: "3600"), .answer()])
            let config = try testConfig(openAI: servers[0], anthropic: servers[1], gemini: servers[2])
            let runner = try SurveyRunner(
                members: try SurveyRunner.members(for: [Panelist(id: "patient", model: "fake-openai/patient")],
                                                  directory: ProviderDirectory(config: config, environment: testEnvironment)),
                options: RunnerOptions(timeout: .seconds(5), retry: RetryPolicy(maxRetryAfter: 30)))
            let (result, _) = await runCollecting(runner, Survey(prompt: "q"))
            let failure = try #require(result.outcome(turn: 0, panelistID: "patient")?.failure)
            #expect(failure.cause.contains("HTTP 429"))
            #expect(failure.cause.contains("more than the cap of 30 s"))
            #expect(servers[0].requests.count == 1)
        }
    }

    @Test func perProviderAndGlobalLimitsHold() async throws {
        try await withServers(3) { servers in
            for model in ["a", "b", "c"] {
                servers[0].script(model, [.answer(delay: 0.15)])
                servers[2].script(model, [.answer(delay: 0.15)])
            }
            // fake-openai capped at 1 by the config file; the others by the global limit of 3.
            let config = try testConfig(openAI: servers[0], anthropic: servers[1], gemini: servers[2], openAICap: 1)
            #expect(config.providers["fake-openai"]?.maxConcurrency == 1)
            let directory = ProviderDirectory(config: config, environment: testEnvironment)
            let panelists = ["fake-openai/a", "fake-openai/b", "fake-openai/c", "fake-gemini/a", "fake-gemini/b",
                             "fake-gemini/c"].enumerated().map { Panelist(id: "p\($0.offset)", model: $0.element) }
            let runner = try SurveyRunner(members: try SurveyRunner.members(for: panelists, directory: directory),
                                          options: RunnerOptions(samples: 2, concurrency: 3, perProviderConcurrency: 4,
                                                                 timeout: .seconds(10)))
            let (result, _) = await runCollecting(runner, Survey(prompt: "q"))
            #expect(result.allAnswered)
            #expect(servers[0].requests.count == 6)
            #expect(servers[0].maxConcurrentRequests == 1)
            #expect(servers[2].requests.count == 6)
            #expect(servers[2].maxConcurrentRequests <= 3)
            #expect(servers[2].maxConcurrentRequests >= 2) // the gemini panelists did run side by side
        }
    }

    @Test func twentyPanelistsOnOneProviderAreAllInFlightAtOnce() async throws {
        // Nothing below the runner's own limit may queue requests (AsyncHTTPClient's pool once held 8 per host).
        try await withServers(3) { servers in
            for i in 0..<20 { servers[0].script("m\(i)", [.answer(delay: 0.5)]) }
            let config = try testConfig(openAI: servers[0], anthropic: servers[1], gemini: servers[2])
            let directory = ProviderDirectory(config: config, environment: testEnvironment)
            let panelists = (0..<20).map { Panelist(id: "p\($0)", model: "fake-openai/m\($0)") }
            let runner = try SurveyRunner(members: try SurveyRunner.members(for: panelists, directory: directory),
                                          options: RunnerOptions(concurrency: 20, perProviderConcurrency: 20,
                                                                 timeout: .seconds(30)))
            let (result, _) = await runCollecting(runner, Survey(prompt: "q"))
            #expect(result.allAnswered)
            #expect(servers[0].maxConcurrentRequests == 20)
        }
    }

    @Test func aMissingKeyFailsBeforeAnyRequestAndNamesTheVariable() async throws {
        try await withServers(3) { servers in
            let config = try testConfig(openAI: servers[0], anthropic: servers[1], gemini: servers[2])
            var environment = testEnvironment
            environment["FAKE_ANTHROPIC_KEY"] = nil
            let directory = ProviderDirectory(config: config, environment: environment)
            let panelists = [Panelist(id: "a", model: "fake-openai/a"), Panelist(id: "b", model: "fake-anthropic/b")]
            let error = try #require(throws: ProviderError.self) {
                try SurveyRunner.members(for: panelists, directory: directory)
            }
            #expect(error == .missingAPIKey(provider: "fake-anthropic", variable: "FAKE_ANTHROPIC_KEY"))
            #expect(error.description.contains("FAKE_ANTHROPIC_KEY"))
            for (_, key) in testEnvironment { #expect(!error.description.contains(key)) }
            #expect(servers.allSatisfy { $0.requests.isEmpty })
        }
    }

    @Test func keysNeverReachFailureCausesOrEvents() async throws {
        try await withServers(3) { servers in
            for server in servers { server.script("leaky", [.echoCredentials]) }
            let config = try testConfig(openAI: servers[0], anthropic: servers[1], gemini: servers[2])
            let directory = ProviderDirectory(config: config, environment: testEnvironment)
            let panelists = [Panelist(id: "o", model: "fake-openai/leaky"), Panelist(id: "a", model: "fake-anthropic/leaky"),
                             Panelist(id: "g", model: "fake-gemini/leaky")]
            let runner = try SurveyRunner(members: try SurveyRunner.members(for: panelists, directory: directory),
                                          options: RunnerOptions(timeout: .seconds(5)))
            let (result, log) = await runCollecting(runner, Survey(prompt: "q"))
            #expect(result.failureCount == 3)
            var texts = result.outcomes.compactMap { $0.outcome.failure.map { "\($0) \(String(reflecting: $0))" } }
            texts += await log.events.map { String(reflecting: $0) }
            // ... nor the stored form of the result.
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let stored = try encoder.encode(result)
            texts.append(String(decoding: stored, as: UTF8.self))
            #expect(try JSONDecoder().decode(SurveyResult.self, from: stored) == result)
            #expect(texts.filter { $0.contains("Incorrect API key provided") }.count >= 3)
            for text in texts {
                for key in testEnvironment.values {
                    #expect(!text.contains(key))
                    #expect(!text.contains(String(key.suffix(10))))
                }
            }
        }
    }

    @Test func cancellingTheRunStopsEverythingAtOnce() async throws {
        try await withServers(3) { servers in
            servers[0].script("stuck", [.hang])
            servers[2].script("slow", [.answer(delay: 30)])
            let config = try testConfig(openAI: servers[0], anthropic: servers[1], gemini: servers[2])
            let directory = ProviderDirectory(config: config, environment: testEnvironment)
            let panelists = [Panelist(id: "stuck", model: "fake-openai/stuck"), Panelist(id: "slow", model: "fake-gemini/slow"),
                             Panelist(id: "fast", model: "fake-anthropic/fast")]
            let runner = try SurveyRunner(members: try SurveyRunner.members(for: panelists, directory: directory),
                                          options: RunnerOptions(timeout: .seconds(60)))
            let (events, task) = runner.start(Survey(prompt: "q", followUps: ["again"]))
            let drain = Task { var count = 0; for await _ in events { count += 1 }; return count }
            while servers[0].requests.isEmpty || servers[2].requests.isEmpty {
                try await Task.sleep(for: .milliseconds(10))
            }
            let clock = ContinuousClock()
            let start = clock.now
            task.cancel()
            let result = await task.value
            #expect(clock.now - start < .seconds(5))
            #expect(result.cancelled)
            #expect(result.outcome(turn: 0, panelistID: "stuck")?.failure?.cause == "cancelled")
            #expect(result.outcome(turn: 0, panelistID: "slow")?.failure?.cause == "cancelled")
            #expect(result.outcome(turn: 1, panelistID: "stuck")?.failure?.cause == "cancelled")
            #expect(await drain.value > 0) // the event stream finished
        }
    }

    @Test func ctrlCCancelsTheSurvey() async throws {
        try await withServers(3) { servers in
            servers[0].script("stuck", [.hang])
            let config = try testConfig(openAI: servers[0], anthropic: servers[1], gemini: servers[2])
            let directory = ProviderDirectory(config: config, environment: testEnvironment)
            let runner = try SurveyRunner(
                members: try SurveyRunner.members(for: [Panelist(id: "stuck", model: "fake-openai/stuck")],
                                                  directory: directory),
                options: RunnerOptions(timeout: .seconds(60)))
            let (_, task) = runner.start(Survey(prompt: "q"))
            let interrupt = InterruptHandler.cancelling(task)
            defer { interrupt.stop() }
            // A watchdog, so a handler that never fires fails the test instead of hanging it.
            let watchdog = Task {
                try await Task.sleep(for: .seconds(10))
                task.cancel()
                return true
            }
            while servers[0].requests.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
            try await Task.sleep(for: .milliseconds(100))
            kill(getpid(), SIGINT)
            let result = await task.value
            watchdog.cancel()
            let watchdogFired = (try? await watchdog.value) ?? false
            #expect(!watchdogFired, "SIGINT did not cancel the survey")
            #expect(result.cancelled)
            #expect(result.outcome(turn: 0, panelistID: "stuck")?.failure?.cause == "cancelled")
        }
    }

    @Test func optionsTakeTheConfigFileSettings() throws {
        var options = RunnerOptions()
        options.apply(try ConvergeConfig(yaml: "concurrency: 3\ntimeout: 2.5\nmax_attempts: 2\n"))
        #expect(options.concurrency == 3)
        #expect(options.timeout == .milliseconds(2500))
        #expect(options.retry.maxAttempts == 2)
        var untouched = RunnerOptions()
        untouched.apply(ConvergeConfig())
        #expect(untouched.concurrency == RunnerOptions().concurrency)
        #expect(untouched.timeout == RunnerOptions().timeout)
    }

    @Test func rejectsBadOptions() throws {
        let panelist = Panelist(id: "x", model: "ollama/x")
        let members = try SurveyRunner.members(for: [panelist, panelist], directory: ProviderDirectory(environment: [:]))
        #expect(throws: InputError.self) { try SurveyRunner(members: members) }
        #expect(throws: InputError.self) { try SurveyRunner(members: [members[0]], options: RunnerOptions(samples: 0)) }
        #expect(throws: InputError.self) { try SurveyRunner(members: []) }
        #expect(throws: ProviderError.self) {
            try SurveyRunner.members(for: [Panelist(id: "nomodel")], directory: ProviderDirectory(environment: [:]))
        }
    }
}

@Suite struct AsyncSemaphoreTests {
    @Test func limitsHoldersAndServesWaitersFirstComeFirstServed() async throws {
        let semaphore = AsyncSemaphore(permits: 2)
        let order = EventOrder()
        try await semaphore.acquire()
        try await semaphore.acquire()
        #expect(await semaphore.availablePermits == 0)
        var waiters: [Task<Void, any Error>] = []
        for index in 0..<3 {
            waiters.append(Task {
                try await semaphore.acquire()
                await order.append(index)
            })
            // Let each waiter queue up before the next, so the arrival order is known.
            while await semaphore.waitingCount < index + 1 { try await Task.sleep(for: .milliseconds(2)) }
        }
        try await Task.sleep(for: .milliseconds(20))
        #expect(await order.values.isEmpty)
        // Each release lets exactly one waiter in, the longest-waiting first.
        for expected in 1...3 {
            await semaphore.release()
            while await order.values.count < expected { try await Task.sleep(for: .milliseconds(2)) }
            try await Task.sleep(for: .milliseconds(10))
            #expect(await order.values.count == expected)
        }
        for waiter in waiters { try await waiter.value }
        #expect(await order.values == [0, 1, 2])
        #expect(await semaphore.availablePermits == 0)
    }

    @Test func aCancelledWaiterLeavesWithoutAPermit() async throws {
        let semaphore = AsyncSemaphore(permits: 1)
        try await semaphore.acquire()
        let waiter = Task { try await semaphore.acquire() }
        try await Task.sleep(for: .milliseconds(20))
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        await semaphore.release()
        #expect(await semaphore.availablePermits == 1)
    }
}

actor EventOrder {
    private(set) var values: [Int] = []
    func append(_ value: Int) { values.append(value) }
}
