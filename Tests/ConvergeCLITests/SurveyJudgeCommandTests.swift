import ConvergeTestSupport
import Foundation
import Testing

/// `converge ask --judge` and `converge reanalyze ID --judge`: the judge's verified claims stored with the survey.
@Suite struct SurveyJudgeCommandTests {
    static let judgeReply = """
        {"consensus": [{"point": "Careful code review", "supporters": [
            {"panelist": "AI 1", "quote": "Review code carefully before merging"},
            {"panelist": "AI 2", "quote": "Review code carefully before merging"}]}]}
        """

    @Test func askJudgesTheAnswersOnceThePanelHasAnsweredAndStoresTheJudge() async throws {
        let server = try await ProviderTestServer.start()
        defer { Task { try? await server.shutdown() } }
        server.script("a", [.answer("Write tests first. Review code carefully before merging.")])
        server.script("b", [.answer("Review code carefully before merging. Mentor the juniors on the team.")])
        server.script("judge", [.answer(Self.judgeReply)])
        let store = StoreCommandTests()
        let env = store.environment(server, db: try StoreCommandTests.Database.sqlite.freshURL())
        let asked = try await CLI.run(["ask", "What do senior engineers do?", "-m", "openai/a", "-m", "openai/b",
                                       "--similarity", "lexical", "--judge", "openai/judge", "--format", "json"],
                                      environment: env)
        #expect(asked.status == 0, "\(asked.stderr)")
        #expect(asked.stderr.contains("asking the judge openai/judge"))
        let report = try #require(try JSONSerialization.jsonObject(with: Data(asked.stdout.utf8)) as? [String: Any])
        let judge = try #require(report["judge"] as? [String: Any])
        #expect(judge["status"] as? String == "verified")
        #expect((judge["consensus"] as? [[String: Any]])?.first?["support"] as? [String] == ["a", "b"])
        // The judge was asked after the panel, with both answers under blind labels.
        let sent = try #require(server.requests(model: "judge").first)
        let shown = sent.messages.last?.content ?? ""
        #expect(shown.contains("## AI 1") && shown.contains("## AI 2") && !shown.contains("openai/a"))
        let id = try #require(store.surveyID(in: asked.stderr))
        let exported = try await CLI.run(["surveys", "export", id, "--format", "json"], environment: env)
        #expect(exported.stdout == asked.stdout)
    }

    @Test func aJudgeWithoutItsKeyIsAUsageErrorBeforeAnyRequest() async throws {
        let server = try await ProviderTestServer.start()
        defer { Task { try? await server.shutdown() } }
        let env = StoreCommandTests().environment(server, db: try StoreCommandTests.Database.sqlite.freshURL())
        let asked = try await CLI.run(["ask", "Q?", "-m", "openai/a", "--similarity", "lexical", "--judge", "anthropic/judge"],
                                      environment: env)
        #expect(asked.status == 2)
        #expect(asked.stderr.contains("--judge") && asked.stderr.contains("ANTHROPIC_API_KEY"), "\(asked.stderr)")
        #expect(server.requests.isEmpty)
    }

    @Test func aPanelThatAllFailedIsNotJudged() async throws {
        let server = try await ProviderTestServer.start()
        defer { Task { try? await server.shutdown() } }
        server.script("a", [.status(400, message: "no")])
        server.script("judge", [.answer(Self.judgeReply)])
        var env = StoreCommandTests().environment(server, db: try StoreCommandTests.Database.sqlite.freshURL())
        env["CONVERGE_OFFLINE"] = "1"
        let asked = try await CLI.run(["ask", "Q?", "-m", "openai/a", "--similarity", "lexical", "--judge", "openai/judge",
                                       "--quiet", "--format", "json"], environment: env)
        #expect(asked.status == 4, "\(asked.stderr)")
        #expect(server.requests(model: "judge").isEmpty)
    }

    @Test func reanalyzeJudgesTheStoredAnswersAndStoresTheJudge() async throws {
        let server = try await ProviderTestServer.start()
        defer { Task { try? await server.shutdown() } }
        server.script("a", [.answer("Write tests first. Review code carefully before merging.")])
        server.script("b", [.answer("Review code carefully before merging. Mentor the juniors on the team.")])
        server.script("judge", [.answer("""
            {"consensus": [{"point": "Careful code review", "supporters": [
                {"panelist": "AI 1", "quote": "Review code carefully before merging"},
                {"panelist": "AI 2", "quote": "Review code carefully before merging"}]}],
             "unique": [{"point": "Tests", "supporters": [{"panelist": "AI 1", "quote": "a fabricated quote about tests"}]}]}
            """)])
        let store = StoreCommandTests()
        let env = store.environment(server, db: try StoreCommandTests.Database.sqlite.freshURL())
        let asked = try await CLI.run(["ask", "What do senior engineers do?", "-m", "openai/a", "-m", "openai/b", "--quiet",
                                       "--similarity", "lexical"], environment: env)
        #expect(asked.status == 0, "\(asked.stderr)")
        let id = try #require(store.surveyID(in: asked.stderr))
        let panelRequests = server.requests(model: "a").count + server.requests(model: "b").count

        let judged = try await CLI.run(["reanalyze", id, "--similarity", "lexical", "--judge", "openai/judge",
                                        "--format", "json"], environment: env)
        #expect(judged.status == 0, "\(judged.stderr)")
        #expect(server.requests(model: "a").count + server.requests(model: "b").count == panelRequests)
        #expect(server.requests(model: "judge").count == 1)
        let report = try #require(try JSONSerialization.jsonObject(with: Data(judged.stdout.utf8)) as? [String: Any])
        let judge = try #require(report["judge"] as? [String: Any])
        #expect((judge["consensus"] as? [[String: Any]])?.first?["support"] as? [String] == ["a", "b"])
        #expect((judge["dropped"] as? [[String: Any]])?.map { $0["kind"] as? String } == ["unique"])
        // Stored: the export of the survey is the judged analysis.
        let exported = try await CLI.run(["surveys", "export", id, "--format", "json"], environment: env)
        #expect(exported.status == 0)
        #expect(exported.stdout == judged.stdout)
    }

    @Test func theJudgesRequestGoesThroughTheResponseCacheInJSONMode() async throws {
        let server = try await ProviderTestServer.start()
        defer { Task { try? await server.shutdown() } }
        server.script("a", [.answer("Write tests first. Review code carefully before merging.")])
        server.script("b", [.answer("Review code carefully before merging. Mentor the juniors on the team.")])
        server.script("judge", [.answer(Self.judgeReply), .answer(Self.judgeReply), .answer(Self.judgeReply)])
        let store = StoreCommandTests()
        let env = store.environment(server, db: try StoreCommandTests.Database.sqlite.freshURL())
        let asked = try await CLI.run(["ask", "What do senior engineers do?", "-m", "openai/a", "-m", "openai/b", "--quiet",
                                       "--similarity", "lexical", "--judge", "openai/judge", "--format", "json"],
                                      environment: env)
        #expect(asked.status == 0, "\(asked.stderr)")
        let id = try #require(store.surveyID(in: asked.stderr))
        #expect(server.requests(model: "judge").count == 1)
        let sent = try #require(server.requests(model: "judge").first?.json)
        #expect(sent["response_format"]?["type"] == .string("json_object"), "the provider's JSON mode is asked for")

        // The same answers, judge and settings: answered from the store, no request.
        let again = try await CLI.run(["reanalyze", id, "--similarity", "lexical", "--judge", "openai/judge", "--format", "json"],
                                      environment: env)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(server.requests(model: "judge").count == 1)
        #expect(again.stderr.contains("the judge's reply came from the response cache"))
        let cached = try #require(try JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as? [String: Any])
        let judge = try #require(cached["judge"] as? [String: Any])
        #expect(judge["fromCache"] as? Bool == true)
        #expect((judge["consensus"] as? [[String: Any]])?.first?["support"] as? [String] == ["a", "b"])

        // --no-cache asks again; a different setting is a different request.
        let fresh = try await CLI.run(["reanalyze", id, "--similarity", "lexical", "--judge", "openai/judge", "--no-cache"],
                                      environment: env)
        #expect(fresh.status == 0, "\(fresh.stderr)")
        #expect(server.requests(model: "judge").count == 2)
        let other = try await CLI.run(["reanalyze", id, "--similarity", "lexical", "--judge", "openai/judge",
                                       "--judge-max-tokens", "700"], environment: env)
        #expect(other.status == 0, "\(other.stderr)")
        #expect(server.requests(model: "judge").count == 3)
        #expect(server.requests(model: "judge").last?.json?["max_completion_tokens"] == .number(700))
    }
}
