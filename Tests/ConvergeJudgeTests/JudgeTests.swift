import ConvergeAnalysis
import ConvergeCore
import ConvergeJudge
import ConvergeProviders
import ConvergeTestSupport
import Foundation
import Testing

/// The judge against a scripted OpenAI-compatible server on loopback, over the real senior-backend answers.
@Suite struct JudgeTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    let input: AnalysisInput
    let analyzer = Analyzer(similarity: LexicalSimilarity())
    let report: Report
    let brief: JudgeBrief

    init() throws {
        input = try SurveyFolder.load(paths: [Self.repo.appendingPathComponent("examples/senior-backend").path],
                                      useFolderRubric: false)
        report = analyzer.analyze(input)
        brief = JudgeBrief(input: input, report: report)
    }

    /// The id of the example's key point about architecture (its words back "Seniors own architecture.").
    var architecture: String {
        report.keyPoints.first { point in
            point.evidence.contains { $0.quote.localizedCaseInsensitiveContains("architect") }
        }?.id ?? "no architecture key point"
    }

    /// The blind label the judge sees for a panelist id.
    func label(_ id: String) -> String { brief.labelOf[id]! }

    func withJudge(_ steps: [ScriptStep], spec: String = "openai/judge",
                   _ body: (ProviderTestServer, Judge) async throws -> Void) async throws {
        let server = try await ProviderTestServer.start()
        do {
            server.script("judge", steps)
            let endpoint = ProviderEndpoint(name: "openai", kind: .openAI, baseURL: server.baseURL + "/v1",
                                            apiKey: APIKey("sk-judge-secret"))
            let judge = Judge(client: ModelClient(spec: spec, provider: OpenAIChatProvider(endpoint: endpoint),
                                                  model: "judge", timeout: .seconds(120), retry: .never))
            try await body(server, judge)
        } catch {
            try await server.shutdown()
            throw error
        }
        try await server.shutdown()
    }

    func json(_ object: [String: Any]) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }

    @Test func aFabricatedQuoteIsDroppedAndARealOneVerifiedWithExactOffsets() async throws {
        let real = "conducting thorough code reviews"
        let reply = json(["consensus": [
            ["point": "Code reviews", "supporters": [
                ["panelist": label("ai-2"), "quote": real],
                ["panelist": label("ai-3"), "quote": "Performing thorough code reviews"]]],
            ["point": "Kubernetes certification", "supporters": [
                ["panelist": label("ai-1"), "quote": "holding a Kubernetes certification is mandatory"],
                ["panelist": label("ai-2"), "quote": "a CKA certificate is required for every senior"]]],
        ], "unique": [["point": "Mentoring", "supporters": [["panelist": label("ai-2"), "quote": "mentoring junior developers"]]]]])
        try await withJudge([.answer(reply)]) { _, judge in
            let judged = await judge.judge(report, input: input, analyzer: analyzer)
            let section = try #require(judged.judge)
            #expect(section.status == .verified)
            #expect(section.attempts == 1)
            // "Performing thorough code reviews" is not ai-3's wording: ai-3 is removed, and one supporter is not a consensus.
            let ai2 = input.answers.first { $0.panelist.id == "ai-2" }!.text
            let scalars = Array(ai2.unicodeScalars)
            #expect(section.consensus.isEmpty)
            #expect(section.status == .verified, "\(section.error ?? "")")
            #expect(section.dropped.map(\.text) == ["Code reviews", "Kubernetes certification"])
            try #require(section.dropped.count == 2)
            #expect(section.dropped.allSatisfy { $0.kind == .consensus })
            #expect(section.dropped[1].reason.hasPrefix("no cited words were found in the answers"))
            let mentoring = try #require(section.unique.first)
            #expect(mentoring.support == ["ai-2"])
            let evidence = try #require(mentoring.evidence.first)
            #expect(evidence.quote == "mentoring junior developers")
            var exact = String.UnicodeScalarView()
            exact.append(contentsOf: scalars[evidence.start..<evidence.end])
            #expect(String(exact) == evidence.quote)
        }
    }

    @Test func aWrongSupporterIsRemovedAndTheMatchersDisagreementMarked() async throws {
        let reply = json(["consensus": [["point": "Mentorship", "supporters": [
            ["panelist": label("ai-1"), "quote": "it encompasses mentorship"],
            ["panelist": label("ai-2"), "quote": "mentoring junior developers"],
            ["panelist": label("ai-3"), "quote": "mentoring junior developers"]]]]])
        try await withJudge([.answer(reply)]) { _, judge in
            let section = try #require(await judge.judge(report, input: input, analyzer: analyzer).judge)
            let claim = try #require(section.consensus.first)
            #expect(claim.support == ["ai-1", "ai-2"])
            #expect(claim.removedSupport == ["ai-3"])
            #expect(claim.evidence.map(\.panelist) == ["ai-1", "ai-2"])
            if let id = claim.keyPoint {
                let point = try #require(report.keyPoints.first { $0.id == id })
                #expect(claim.agreesWithMatcher == (Set(point.support) == ["ai-1", "ai-2"]))
            }
        }
    }

    @Test func invalidJSONIsRepairedOnce() async throws {
        let valid = json(["synthesis": [["sentence": "Seniors own architecture.", "keyPoints": [architecture]]]])
        try await withJudge([.answer("Sure! Here is my analysis: consensus is strong."), .answer(valid)]) { server, judge in
            let section = try #require(await judge.judge(report, input: input, analyzer: analyzer).judge)
            #expect(section.status == .verified)
            #expect(section.attempts == 2)
            #expect(section.synthesis == [.init(text: "Seniors own architecture.", keyPoints: [architecture])])
            #expect(section.error?.contains("not valid JSON") == true)
            let repair = try #require(server.requests(model: "judge").last)
            #expect(repair.messages.map(\.role) == ["system", "user", "assistant", "user"])
            #expect(repair.messages[2].content == "Sure! Here is my analysis: consensus is strong.")
        }
    }

    @Test func invalidTwiceLeavesTheDeterministicReportWhole() async throws {
        try await withJudge([.answer("not json"), .answer("{still not json")]) { server, judge in
            let judged = await judge.judge(report, input: input, analyzer: analyzer)
            let section = try #require(judged.judge)
            #expect(section.status == .failed)
            #expect(section.attempts == 2)
            #expect(section.error?.contains("not valid JSON twice") == true)
            var without = judged
            without.judge = nil
            #expect(without == report)
            #expect(server.requests(model: "judge").count == 2)
        }
    }

    @Test func aProviderErrorIsAJudgeFailureNotACrash() async throws {
        try await withJudge([.status(500, message: "overloaded")]) { _, judge in
            let section = try #require(await judge.judge(report, input: input, analyzer: analyzer).judge)
            #expect(section.status == .failed)
            #expect(section.error?.contains("HTTP 500") == true)
            #expect(section.error?.contains("sk-judge-secret") == false)
        }
    }

    @Test func theJudgeSeesBlindLabelsInAShuffledOrder() async throws {
        try await withJudge([.answer(json(["consensus": []]))]) { server, judge in
            _ = await judge.judge(report, input: input, analyzer: analyzer)
            let request = try #require(server.requests(model: "judge").first)
            let user = try #require(request.messages.last?.content)
            // No panelist id or file name reaches the judge; labels follow the shown order.
            for id in ["ai-1.md", "ai-2.md", "ai-3.md"] { #expect(!user.contains(id)) }
            let shown = brief.order
            #expect(Set(shown) == ["ai-1", "ai-2", "ai-3"])
            #expect(shown.map(label) == ["AI 1", "AI 2", "AI 3"])
            var last = user.startIndex
            for id in shown {
                let first = String(input.answers.first { $0.panelist.id == id }!.text.trimmingWhitespace.prefix(60))
                let at = try #require(user.range(of: first, range: last..<user.endIndex))
                let heading = try #require(user.range(of: "## \(label(id))\n", range: last..<at.lowerBound))
                #expect(heading.upperBound <= at.lowerBound)
                last = at.upperBound
            }
        }
        // The order is not always the panel order: over a few panels of different texts, some are shuffled.
        var shuffled = 0
        for n in 0..<8 {
            var copy = input
            copy.prompt = (input.prompt ?? "") + " \(n)"
            if JudgeBrief(input: copy, report: report).order != ["ai-1", "ai-2", "ai-3"] { shuffled += 1 }
        }
        #expect(shuffled >= 4)
    }

    @Test func aJudgeOnThePanelIsNoted() async throws {
        var onPanel = report
        onPanel.panelists[1].model = "openai/judge"
        try await withJudge([.answer(json(["consensus": []]))]) { _, judge in
            let noted = try #require(await judge.judge(onPanel, input: input, analyzer: analyzer).judge)
            let notNoted = try #require(await judge.judge(report, input: input, analyzer: analyzer).judge)
            #expect(noted.onPanel)
            #expect(!notNoted.onPanel)
        }
    }

    @Test func aBlindSpotNobodyCoversBecomesAnOmissionAndACoveredOneIsDropped() async throws {
        let reply = json(["blindSpots": [["point": "Using AI tools to augment the engineer's own work"],
                                         "Mentoring junior developers"]])
        try await withJudge([.answer(reply)]) { _, judge in
            let judged = await judge.judge(report, input: input, analyzer: analyzer)
            let section = try #require(judged.judge)
            #expect(section.blindSpots == [.init(text: "Using AI tools to augment the engineer's own work", item: "judge-1")])
            #expect(judged.omissions.last == Report.Omission(item: "judge-1", category: JudgeVerifier.blindSpotCategory,
                                                             text: "Using AI tools to augment the engineer's own work"))
            let dropped = try #require(section.dropped.first)
            #expect(dropped.kind == .blindSpot)
            #expect(dropped.reason.hasPrefix("covered by ai-2"))
        }
    }

    @Test func synthesisMustCiteExistingKeyPoints() async throws {
        let reply = json(["synthesis": [
            ["sentence": "They agree on architecture.", "keyPoints": [architecture, "kp-999"]],
            ["sentence": "Everyone loves Rust.", "keyPoints": ["kp-999"]],
            "A sentence with no citation."]])
        try await withJudge([.answer(reply)]) { _, judge in
            let section = try #require(await judge.judge(report, input: input, analyzer: analyzer).judge)
            #expect(section.synthesis == [.init(text: "They agree on architecture.", keyPoints: [architecture])])
            #expect(section.dropped.map(\.text) == ["Everyone loves Rust.", "A sentence with no citation."])
        }
    }

    @Test func contradictionsNeedTwoVerifiedSides() async throws {
        let reply = json(["contradictions": [
            ["topic": "Years of experience", "sides": [
                ["panelist": label("ai-1"), "stance": "5+", "quote": "backed by 5+ years of dedicated experience"],
                ["panelist": label("ai-2"), "stance": "5-8+", "quote": "typically brings 5-8+ years of experience"]]],
            ["topic": "Invented", "sides": [
                ["panelist": label("ai-1"), "stance": "yes", "quote": "never write tests"],
                ["panelist": label("ai-3"), "stance": "no", "quote": "always write tests first"]]]]])
        try await withJudge([.answer(reply)]) { _, judge in
            let section = try #require(await judge.judge(report, input: input, analyzer: analyzer).judge)
            #expect(section.status == .verified, "\(section.error ?? "")")
            #expect(section.contradictions.count == 1)
            let years = try #require(section.contradictions.first)
            #expect(years.sides.map(\.panelist) == ["ai-1", "ai-2"])
            #expect(section.dropped.map(\.text) == ["Invented"])
        }
    }

    @Test func malformedLabelsAreNotPanelistsAndASupporterCountsOnce() async throws {
        let n = label("ai-2").dropFirst(3)
        let reply = json(["unique": [["point": "Mentoring", "supporters": [
            ["panelist": "AI 0\(n)", "quote": "mentoring junior developers"],
            ["panelist": "AI  \(n)", "quote": "mentoring junior developers"],
            ["panelist": label("ai-2"), "quote": "mentoring junior developers"],
            ["panelist": "ai-\(n)", "quote": "conducting thorough code reviews"]]]]])
        try await withJudge([.answer(reply)]) { _, judge in
            let section = try #require(await judge.judge(report, input: input, analyzer: analyzer).judge)
            let claim = try #require(section.unique.first)
            #expect(claim.support == ["ai-2"])
            #expect(claim.evidence.map(\.quote) == ["mentoring junior developers"])
        }
    }

    @Test func aFloodOfClaimsIsCutAtTheLimitsAndRepeatsAreOne() async throws {
        let point: [String: Any] = ["point": "Mentoring", "supporters": [["panelist": label("ai-2"), "quote": "mentoring junior developers"]]]
        let spots = (0..<(JudgeVerifier.limits.blindSpots + 5)).map { "Blind spot number \($0) about quantum annealing" }
        let reply = json(["unique": Array(repeating: point, count: 500), "blindSpots": spots])
        try await withJudge([.answer(reply)]) { _, judge in
            let judged = await judge.judge(report, input: input, analyzer: analyzer)
            let section = try #require(judged.judge)
            #expect(section.unique.count == 1)
            #expect(section.blindSpots.count == JudgeVerifier.limits.blindSpots)
            #expect(section.dropped.contains { $0.kind == .blindSpot && $0.text == "5 more" })
            #expect(judged.omissions.count == report.omissions.count + JudgeVerifier.limits.blindSpots)
        }
    }

    @Test func afterFollowUpsTheJudgeSeesTheEarlierQuestions() {
        var followedUp = report
        followedUp.turns = [Report.Turn(index: 0, prompt: "What is a senior engineer?", responses: []),
                            Report.Turn(index: 1, prompt: input.prompt ?? "", responses: [])]
        let user = JudgeBrief(input: input, report: followedUp).messages.last?.content ?? ""
        let earlier = user.range(of: "1. What is a senior engineer?")
        let question = user.range(of: "# The question")
        #expect(earlier != nil && question != nil && earlier!.lowerBound < question!.lowerBound)
        let single = JudgeBrief(input: input, report: report).messages.last?.content ?? ""
        #expect(!single.contains("Earlier questions"))
    }
}

/// The judge's request: the provider's JSON mode, and a server that refuses it.
extension JudgeTests {
    @Test func theJudgeAsksForTheProvidersJSONModeAndDropsItWhenRefused() async throws {
        let valid = json(["synthesis": [["sentence": "Seniors own architecture.", "keyPoints": [architecture]]]])
        try await withJudge([.answer(valid)]) { server, judge in
            let section = try #require(await judge.judge(report, input: input, analyzer: analyzer).judge)
            #expect(section.status == .verified)
            #expect(server.requests(model: "judge").first?.json?["response_format"]?["type"] == .string("json_object"))
        }
        try await withJudge([.status(400, message: "response_format is not supported by this server"), .answer(valid)]) {
            server, judge in
            let section = try #require(await judge.judge(report, input: input, analyzer: analyzer).judge)
            #expect(section.status == .verified, "\(section.error ?? "")")
            #expect(section.attempts == 1)
            let sent = server.requests(model: "judge")
            try #require(sent.count == 2)
            #expect(sent[0].json?["response_format"] != nil)
            #expect(sent[1].json?["response_format"] == nil, "asked again without the mode")
            #expect(sent[1].json?["messages"] == sent[0].json?["messages"])
        }
    }
}

/// What a fresh-user pass found the verifier letting through.
extension JudgeTests {
    @Test func aUniquePointWithSeveralVerifiedSupportersIsDropped() async throws {
        let reply = json(["unique": [["point": "Years of experience", "supporters": [
            ["panelist": label("ai-1"), "quote": "backed by 5+ years of dedicated experience"],
            ["panelist": label("ai-2"), "quote": "typically brings 5-8+ years of experience"]]]]])
        try await withJudge([.answer(reply)]) { _, judge in
            let section = try #require(await judge.judge(report, input: input, analyzer: analyzer).judge)
            #expect(section.unique.isEmpty)
            #expect(section.dropped.first?.reason == "2 panelists' words were found: not a point only one makes")
        }
    }

    @Test func aSynthesisSentenceAboutSomethingElseIsDropped() async throws {
        let reply = json(["synthesis": [
            ["sentence": "All panelists agree that seniors should drink bleach daily.", "keyPoints": [report.keyPoints[0].id]]]])
        try await withJudge([.answer(reply)]) { _, judge in
            let section = try #require(await judge.judge(report, input: input, analyzer: analyzer).judge)
            #expect(section.synthesis.isEmpty)
            #expect(section.dropped.first?.reason.hasPrefix("shares no word with the key points it cites") == true)
        }
    }

    @Test func controlAndBidiCharactersAreTakenOutOfTheJudgesText() async throws {
        let reply = json(["blindSpots": ["Quantum \u{202E}annealing\u{0000} for\tschedulers"]])
        try await withJudge([.answer(reply)]) { _, judge in
            let section = try #require(await judge.judge(report, input: input, analyzer: analyzer).judge)
            #expect(section.blindSpots.map(\.text) == ["Quantum annealing for schedulers"])
        }
    }

    @Test func aBlindSpotThatIsARubricItemIsNotListedTwice() async throws {
        let withRubric = try SurveyFolder.load(paths: [Self.repo.appendingPathComponent("examples/senior-backend").path],
                                               useFolderRubric: true)
        let rubricReport = analyzer.analyze(withRubric)
        let item = try #require(withRubric.rubric?.items.first { $0.item.id == "ai-tools" }?.item)
        let reply = json(["blindSpots": [item.text.uppercased() + "!"]])
        try await withJudge([.answer(reply)]) { _, judge in
            let judged = await judge.judge(rubricReport, input: withRubric, analyzer: analyzer)
            let section = try #require(judged.judge)
            #expect(section.blindSpots.isEmpty)
            #expect(section.dropped.first?.reason == "it is the rubric's item ai-tools")
            #expect(judged.omissions == rubricReport.omissions)
        }
    }
}
