import ConvergeCore
import ConvergeTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import ConvergeServer

/// `POST /v1/surveys` with `judge`: the judge is asked once the panel has answered, and its verified claims are
/// stored with the survey's report.
@Suite struct SurveysJudgeTests {
    @Test func aSurveysJudgeIsAskedAfterThePanelAndItsClaimsAreInTheStoredReport() async throws {
        try await withSurveyFixture(.sqlite) { fixture in
            fixture.provider.script("alpha", [.answer("Measure before you cache. Invalidation is hard.")])
            fixture.provider.script("beta", [.answer("Measure before you cache, then watch hit rates.")])
            fixture.provider.script("judge", [.answer("""
                {"consensus": [{"point": "Measure first", "supporters": [
                  {"panelist": "AI 1", "quote": "Measure before you cache"},
                  {"panelist": "AI 2", "quote": "Measure before you cache"}]}]}
                """)])
            try await fixture.app().test(.router) { client in
                let created = try await SurveysRouterTests().post(client, "/v1/surveys", [
                    "prompt": "Should we cache?", "panel": ["openai/alpha", "openai/beta"], "judge": "openai/judge",
                ])
                #expect(created.status == .accepted)
                let id = try #require(Fixture.object(created.body)?["id"] as? String)
                let stream = try await SurveysRouterTests().get(client, "/v1/surveys/\(id)/events")
                #expect(ParsedEvent.parse(String(buffer: stream.body)).last?.data["status"] as? String == "complete")
                let response = try await SurveysRouterTests().get(client, "/v1/surveys/\(id)/report")
                #expect(response.status == .ok)
                let report = try JSONDecoder().decode(Report.self, from: Data(response.body.readableBytesView))
                let judge = try #require(report.judge)
                #expect(judge.status == .verified)
                #expect(judge.consensus.first?.support == ["alpha", "beta"])
            }
            let judged = fixture.provider.requests(model: "judge")
            #expect(judged.count == 1)
            #expect(judged.first?.messages.last?.content.contains("## AI 2") == true)
        }
    }

    @Test func aJudgeWithoutAKnownProviderIsRefusedNamingTheField() async throws {
        try await withSurveyFixture(.sqlite) { fixture in
            try await fixture.app().test(.router) { client in
                for (judge, status) in [("nojudge", HTTPResponse.Status.badRequest), ("nowhere/judge", .unprocessableContent)] {
                    let created = try await SurveysRouterTests().post(client, "/v1/surveys", [
                        "prompt": "Q?", "panel": ["openai/alpha"], "judge": judge,
                    ])
                    #expect(created.status == status, "\(judge)")
                    #expect(Fixture.error(created.body)?.field == "judge", "\(judge)")
                }
            }
            #expect(fixture.provider.requests.isEmpty)
        }
    }
}
