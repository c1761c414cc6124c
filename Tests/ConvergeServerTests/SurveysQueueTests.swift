import ConvergeProviders
import ConvergeRunner
import ConvergeStore
import ConvergeTestSupport
import Foundation
import Testing
@testable import ConvergeServer

/// A server started on a PostgreSQL database that `converge worker` processes serve: surveys whose threads are
/// in the work queue are the workers', and the server does not ask them again on start.
@Suite(.serialized, .enabled(if: PostgresTestCluster.unavailableReason == nil))
struct SurveysQueueTests {
    @Test func surveysQueuedForWorkersAreNotResumedByTheServer() async throws {
        try await withSurveyFixture(.postgres) { fixture in
            let directory = ProviderDirectory(environment: [
                "OPENAI_API_KEY": SurveyFixture.providerKey, "OPENAI_BASE_URL": fixture.provider.baseURL + "/v1",
            ])
            let archive = SurveyArchive(store: fixture.store)
            func planned(_ model: String) throws -> SurveyPlan {
                try SurveyPlan(SurveyPlan.Request(prompt: "Why a queue?", panel: [PanelEntry(spec: try ModelSpec(parsing: model))]),
                               directory: directory)
            }
            let queuedPlan = try planned("openai/queued")
            let queued = try await archive.create(queuedPlan.survey, spec: queuedPlan.spec)
            try await workQueue(fixture.store).enqueue(QueueFollower.jobs(surveyID: queued, plan: queuedPlan, useCache: true))
            let leftPlan = try planned("openai/left")
            let left = try await archive.create(leftPlan.survey, spec: leftPlan.spec)

            await fixture.service.resumeLeftOver()
            #expect(await !fixture.service.isRunning(queued))
            await fixture.service.waitUntilIdle()
            #expect(fixture.provider.requests(model: "left").count == 1)
            #expect(fixture.provider.requests(model: "queued").isEmpty)
            #expect(try await fixture.store.survey(id: left).status == .complete)
            #expect(try await fixture.store.survey(id: queued).status == .running)
        }
    }
}
