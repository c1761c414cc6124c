import ConvergeCore
import ConvergeStore
import ConvergeTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import ConvergeServer

/// `POST /v1/surveys` with `draftRubric`, and the start page's rubric draft field: a model writes the rubric from
/// the prompt alone before the panel is asked, and it is stored with the survey as a given one is.
@Suite struct SurveysRubricDraftTests {
    static let drafted = """
        ```yaml
        title: Caching
        categories:
          - name: Practice
            items:
              - id: measure
                text: Measure before you cache
              - id: eviction
                text: Choose an eviction policy
        ```
        """

    @Test func aDraftedRubricIsStoredWithTheSurveyAndItsOmissionsReported() async throws {
        try await withSurveyFixture(.sqlite) { fixture in
            fixture.provider.script("drafter", [.answer(Self.drafted)])
            fixture.provider.script("alpha", [.answer("Measure before you cache. Invalidation is hard.")])
            fixture.provider.script("beta", [.answer("Measure before you cache, then watch hit rates.")])
            try await fixture.app().test(.router) { client in
                let created = try await SurveysRouterTests().post(client, "/v1/surveys", [
                    "prompt": "Should we cache?", "panel": ["openai/alpha", "openai/beta"], "draftRubric": "openai/drafter",
                ])
                #expect(created.status == .accepted, "\(String(buffer: created.body))")
                let id = try #require(Fixture.object(created.body)?["id"] as? String)
                _ = try await SurveysRouterTests().get(client, "/v1/surveys/\(id)/events")
                let response = try await SurveysRouterTests().get(client, "/v1/surveys/\(id)/report")
                let report = try JSONDecoder().decode(Report.self, from: Data(response.body.readableBytesView))
                #expect(report.rubric?.items.map(\.id) == ["measure", "eviction"])
                #expect(report.omissions.map(\.item) == ["eviction"], "nobody names an eviction policy")
            }
            // Drafted from the prompt alone, before any panelist was asked.
            let draft = try #require(fixture.provider.requests(model: "drafter").first)
            #expect(draft.messages.last?.content.contains("Should we cache?") == true)
            #expect(!draft.messages.contains { $0.content.contains("Invalidation is hard") })
            let firstPanel = try #require(fixture.provider.requests(model: "alpha").first)
            #expect(draft.receivedAt <= firstPanel.receivedAt)
            let stored = try #require(try await fixture.store.surveys(limit: 1, offset: 0).first)
            #expect(String(decoding: stored.spec, as: UTF8.self).contains(#""file":"rubric drafted by openai\/drafter""#))
        }
    }

    @Test func aFailedDraftOrABadRequestStoresNothingAndNamesTheField() async throws {
        try await withSurveyFixture(.sqlite) { fixture in
            fixture.provider.script("drafter", [.answer("not: [a rubric"), .answer("still: [not")])
            try await fixture.app().test(.router) { client in
                let failed = try await SurveysRouterTests().post(client, "/v1/surveys", [
                    "prompt": "Should we cache?", "panel": ["openai/alpha"], "draftRubric": "openai/drafter",
                ])
                #expect(failed.status == .unprocessableContent)
                let error = try #require(Fixture.error(failed.body))
                #expect(error.field == "draftRubric")
                #expect(error.message.contains("openai/drafter drafted no rubric"), "\(error.message)")
                for (body, status) in [
                    (["prompt": "Q?", "panel": ["openai/alpha"], "draftRubric": "openai/drafter", "rubric": "title: x"],
                     HTTPResponse.Status.unprocessableContent),
                    (["prompt": "Q?", "panel": ["openai/alpha"], "draftRubric": "nowhere/drafter"], .unprocessableContent),
                ] as [([String: Any], HTTPResponse.Status)] {
                    let refused = try await SurveysRouterTests().post(client, "/v1/surveys", body)
                    #expect(refused.status == status)
                    #expect(Fixture.error(refused.body)?.field == "draftRubric")
                }
                // Every other check comes first: a panel that cannot run costs no draft.
                let badPanel = try await SurveysRouterTests().post(client, "/v1/surveys", [
                    "prompt": "Q?", "panel": ["nowhere/alpha"], "draftRubric": "openai/drafter",
                ])
                #expect(Fixture.error(badPanel.body)?.field == "panel[0]")
            }
            #expect(fixture.provider.requests(model: "drafter").count == 2, "the failed draft and its repair only")
            #expect(fixture.provider.requests(model: "alpha").isEmpty)
            #expect(try await fixture.store.surveys(limit: 10, offset: 0).isEmpty)
        }
    }

    @Test func theStartPageDraftsARubricFirst() async throws {
        try await withSurveyFixture(.sqlite) { fixture in
            fixture.provider.script("drafter", [.answer(Self.drafted)])
            fixture.provider.script("alpha", [.answer("Measure before you cache.")])
            fixture.provider.script("beta", [.answer("Measure before you cache, then evict by LRU.")])
            try await fixture.app().test(.router) { client in
                try await client.execute(uri: "/surveys/new", method: .get) { response in
                    #expect(String(buffer: response.body).contains("name=\"draftRubric\""))
                }
                var form = PagesRouterTests.startForm(rubricFile: nil)
                form.field("draftRubric", "openai/drafter")
                let id = try await client.execute(uri: "/surveys", method: .post, headers: form.headers, body: form.buffer) {
                    response in
                    #expect(response.status == .seeOther)
                    return String(try #require(response.headers[.location]).dropFirst("/surveys/".count))
                }
                await fixture.service.waitUntilIdle()
                let response = try await SurveysRouterTests().get(client, "/v1/surveys/\(id)/report")
                let report = try JSONDecoder().decode(Report.self, from: Data(response.body.readableBytesView))
                #expect(report.rubric?.items.map(\.id) == ["measure", "eviction"])

                // With a rubric too, the form comes back saying so; nothing more is drafted.
                var both = PagesRouterTests.startForm()
                both.field("draftRubric", "openai/drafter")
                try await client.execute(uri: "/surveys", method: .post, headers: both.headers, body: both.buffer) { response in
                    #expect(response.status == .unprocessableContent)
                    #expect(String(buffer: response.body).contains("Give a rubric or a model to draft one, not both."))
                }
            }
            #expect(fixture.provider.requests(model: "drafter").count == 1)
        }
    }
}
