import ConvergeStore
import ConvergeTestSupport
import Foundation
import Testing

/// The work queue (schema version 6) on a real PostgreSQL cluster: leases, their expiry, the guarded writes and
/// the providers' limits counted over every claimer. SQLite has the table but no queue.
@Suite(.serialized) struct QueueStoreTests {
    static let response = StoredResponse(text: "first", latencyMs: 5)

    func survey(_ store: any SurveyStore) async throws -> StoredSurvey {
        let survey = sampleSurvey()
        try await store.createSurvey(survey, turns: [survey.prompt])
        return survey
    }

    @Test func sqliteHasTheTableButNoQueue() async throws {
        let store = try await openStore(try Backend.sqlite.freshURL())
        #expect(try await store.schemaVersion() >= 6)
        #expect(throws: StoreError.queueNeedsPostgres(location: store.location)) { try workQueue(store) }
        #expect("\(StoreError.queueNeedsPostgres(location: store.location))".contains("needs PostgreSQL"))
        await store.close()
    }

    /// A claimer that does not accept a provider leaves its jobs queued, untouched (no claim counted), for one
    /// that does.
    @Test(.enabled(if: PostgresTestCluster.unavailableReason == nil))
    func jobsOfAProviderAClaimerRefusesStayQueuedForAnother() async throws {
        let store = try await openStore(try Backend.postgres.freshURL())
        let queue = try workQueue(store)
        let survey = try await survey(store)
        try await queue.enqueue([
            QueueJob(surveyID: survey.id, panelistID: "a", sample: 0, limitKey: "openai", limitMax: 4),
            QueueJob(surveyID: survey.id, panelistID: "b", sample: 0, limitKey: "anthropic", limitMax: 4),
        ])
        let openaiOnly = try await queue.claim(worker: "w1", max: 5, lease: .seconds(30)) { $0 == "openai" }
        #expect(openaiOnly.map(\.job.limitKey) == ["openai"])
        #expect(try await queue.claim(worker: "w1", max: 5, lease: .seconds(30)) { $0 == "openai" }.isEmpty)
        let waiting = try await queue.jobs(surveyIDs: [survey.id]).first { $0.job.panelistID == "b" }
        #expect(waiting?.state == .queued && waiting?.claims == 0 && waiting?.owner == nil)
        let other = try await queue.claim(worker: "w2", max: 5, lease: .seconds(30)) { $0 == "anthropic" }
        #expect(other.map(\.job.panelistID) == ["b"] && other.first?.claims == 1)
        await store.close()
    }

    @Test(.enabled(if: PostgresTestCluster.unavailableReason == nil))
    func aLeaseLostIsTakenAgainAndItsLateWriterCannotWrite() async throws {
        let store = try await openStore(try Backend.postgres.freshURL())
        let queue = try workQueue(store)
        let survey = try await survey(store)
        let job = QueueJob(surveyID: survey.id, panelistID: "a", sample: 0, limitKey: "openai", limitMax: 4)
        try await queue.enqueue([job])
        let first = try #require(try await queue.claim(worker: "w1", max: 5, lease: .milliseconds(400)).first)
        #expect(first.job == job && first.claims == 1)
        #expect(try await queue.claim(worker: "w2", max: 5, lease: .seconds(30)).isEmpty)  // leased, not expired
        #expect(try await queue.extend([first.token, "nobody"], lease: .milliseconds(400)) == [first.token])
        try await Task.sleep(for: .milliseconds(700))  // w1 stops beating: its lease expires
        let second = try #require(try await queue.claim(worker: "w2", max: 5, lease: .seconds(30)).first)
        #expect(second.claims == 2 && second.token != first.token)
        #expect(try await queue.extend([first.token], lease: .seconds(30)).isEmpty)

        let key = StoredRequestKey(turn: 0, panelistID: "a", sample: 0)
        // The late writer (lost lease) writes nothing, the holder writes once, and never twice.
        #expect(try await !queue.recordLeasedAnswer(first, key: key, cacheKey: "k", request: sampleRequest,
                                                    response: StoredResponse(text: "late", latencyMs: 1), attempts: 1,
                                                    fromCache: false))
        #expect(try await !queue.recordLeasedFailure(first, key: key, cacheKey: "k", request: sampleRequest, error: "x",
                                                     attempts: 1))
        #expect(try await queue.recordLeasedAnswer(second, key: key, cacheKey: "k", request: sampleRequest,
                                                   response: Self.response, attempts: 1, fromCache: false))
        #expect(try await !queue.recordLeasedAnswer(second, key: key, cacheKey: "k", request: sampleRequest,
                                                    response: StoredResponse(text: "again", latencyMs: 1), attempts: 1,
                                                    fromCache: false))
        #expect(try await !queue.recordLeasedFailure(second, key: key, cacheKey: "k", request: sampleRequest, error: "x",
                                                     attempts: 1))
        #expect(try await !queue.complete(first))
        #expect(try await queue.complete(second))
        let rows = try await store.requests(surveyID: survey.id)
        #expect(rows.count == 1 && rows[0].state == .answered && rows[0].response?.text == "first")
        let status = try #require(try await queue.jobs(surveyIDs: [survey.id]).first)
        #expect(status.state == .done && status.owner == "w2" && status.claims == 2 && !status.live)
        // Done is done; queued again (a resume) it can be taken again.
        #expect(try await queue.claim(worker: "w3", max: 5, lease: .seconds(30)).isEmpty)
        try await queue.enqueue([job])
        #expect(try await queue.claim(worker: "w3", max: 5, lease: .seconds(30)).count == 1)
        await store.close()
    }

    @Test(.enabled(if: PostgresTestCluster.unavailableReason == nil))
    func providerLimitsHoldOverEveryClaimerAtOnce() async throws {
        let url = try Backend.postgres.freshURL()
        let store = try await openStore(url)
        let queue = try workQueue(store)
        let survey = try await survey(store)
        var jobs: [QueueJob] = []
        for n in 0..<20 {
            jobs.append(QueueJob(surveyID: survey.id, panelistID: "p\(n)", sample: 0, limitKey: "openai", limitMax: 5))
            jobs.append(QueueJob(surveyID: survey.id, panelistID: "q\(n)", sample: 0, limitKey: "anthropic", limitMax: 3))
        }
        try await queue.enqueue(jobs)
        // Four claimers on connections of their own, at once, each asking for more than the limits allow.
        var stores: [any SurveyStore] = []
        for _ in 0..<4 { stores.append(try await openStore(url)) }
        let claimed = try await withThrowingTaskGroup(of: [LeasedJob].self) { group in
            for (n, other) in stores.enumerated() {
                group.addTask { try await workQueue(other).claim(worker: "w\(n)", max: 10, lease: .seconds(30)) }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(claimed.filter { $0.job.limitKey == "openai" }.count == 5)
        #expect(claimed.filter { $0.job.limitKey == "anthropic" }.count == 3)
        #expect(Set(claimed.map(\.job.id)).count == claimed.count)
        // Two finish and one is given back: three places free up for openai.
        let openai = claimed.filter { $0.job.limitKey == "openai" }
        #expect(try await queue.complete(openai[0]))
        #expect(try await queue.complete(openai[1]))
        try await queue.release([openai[2].token])
        let more = try await queue.claim(worker: "w9", max: 10, lease: .seconds(30))
        #expect(more.filter { $0.job.limitKey == "openai" }.count == 3 && more.allSatisfy { $0.job.limitKey == "openai" }, "\(more.map(\.job.id))")
        let statuses = try await queue.jobs(surveyIDs: [survey.id])
        #expect(statuses.filter { $0.state == .leased && $0.live && $0.job.limitKey == "openai" }.count == 5)
        #expect(statuses.filter { $0.state == .done }.count == 2 && statuses.count == 40)
        for other in stores { await other.close() }
        await store.close()
    }
}
