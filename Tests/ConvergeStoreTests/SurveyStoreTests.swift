import ConvergeStore
import ConvergeTestSupport
import Foundation
import Testing

/// The storage contract, on a real SQLite file and a real PostgreSQL cluster (initdb'd by the tests).
@Suite(.serialized) struct SurveyStoreTests {
    @Test(arguments: Backend.allCases)
    func keepsSurveysTurnsRequestsAndAnalyses(_ backend: Backend) async throws {
        let store = try await openStore(try backend.freshURL())
        let older = sampleSurvey(prompt: "older", createdAt: Date(timeIntervalSinceNow: -60))
        let survey = sampleSurvey(prompt: "Ünïcode prompt — 'quotes' and \"more\"")
        try await store.createSurvey(older, turns: ["older"])
        try await store.createSurvey(survey, turns: [survey.prompt])
        #expect(try await store.appendTurn(surveyID: survey.id, prompt: "And then?") == 1)
        #expect(try await store.turns(surveyID: survey.id).map(\.prompt) == [survey.prompt, "And then?"])

        let a = StoredRequestKey(turn: 0, panelistID: "a", sample: 0)
        let b = StoredRequestKey(turn: 0, panelistID: "b", sample: 0)
        try await store.recordPending(surveyID: survey.id, key: a, cacheKey: "k-a", request: sampleRequest)
        try await store.recordPending(surveyID: survey.id, key: b, cacheKey: "k-b", request: sampleRequest)
        let answer = StoredResponse(text: "Ownership 🚀 and\nmentoring", latencyMs: 812, inputTokens: 10,
                                    outputTokens: 4, finishReason: "stop", requestID: "req-1", model: "a-2025")
        try await store.recordAnswer(surveyID: survey.id, key: a, cacheKey: "k-a", request: sampleRequest,
                                     response: answer, attempts: 2, fromCache: false)
        try await store.recordFailure(surveyID: survey.id, key: b, cacheKey: "k-b", request: sampleRequest,
                                      error: "HTTP 500: boom", attempts: 3)

        let rows = try await store.requests(surveyID: survey.id)
        #expect(rows.map(\.key) == [a, b])
        #expect(rows[0].state == .answered && rows[0].response == answer && rows[0].attempts == 2)
        #expect(rows[1].state == .failed && rows[1].error == "HTTP 500: boom" && rows[1].response == nil)

        // Newest first, with the prompt and panel size.
        let listed = try await store.surveys(limit: 10, offset: 0)
        #expect(listed.map(\.id) == [survey.id, older.id])
        #expect(listed[0].prompt == survey.prompt && listed[0].panelSize == 2)
        #expect(try await store.surveys(limit: 1, offset: 1).map(\.id) == [older.id])

        try await store.setStatus(surveyID: survey.id, .partial)
        #expect(try await store.survey(id: survey.id).status == .partial)
        #expect(try await store.survey(id: String(survey.id.prefix(8))).id == survey.id)

        let report = Data(#"{"schemaVersion":1}"#.utf8)
        try await store.saveAnalysis(StoredAnalysis(surveyID: survey.id, turn: 1, engine: "test", report: report))
        let analysis = try #require(try await store.latestAnalysis(surveyID: survey.id))
        #expect(analysis.report == report && analysis.turn == 1)

        try await store.deleteSurvey(id: survey.id)
        await #expect(throws: StoreError.notFound(survey.id)) { try await store.survey(id: survey.id) }
        #expect(try await store.requests(surveyID: survey.id).isEmpty)
        #expect(try await store.latestAnalysis(surveyID: survey.id) == nil)
        #expect(try await store.surveys(limit: 10, offset: 0).map(\.id) == [older.id])
        await #expect(throws: StoreError.notFound("nope")) { try await store.deleteSurvey(id: "nope") }
        await store.close()
    }

    /// Many processes claiming one survey at once: exactly one gets it. Each store is its own connection pool, as
    /// separate processes are; on PostgreSQL the owner is read under a row lock (without it, two `batches resume`
    /// under load both took the survey).
    @Test(arguments: Backend.allCases)
    func concurrentClaimsGiveTheSurveyToExactlyOne(_ backend: Backend) async throws {
        let url = try backend.freshURL()
        let setup = try await openStore(url)
        var stores: [any SurveyStore] = []
        for _ in 0..<6 { stores.append(try await openStore(url)) }
        for round in 0..<5 {
            let survey = sampleSurvey()
            try await setup.createSurvey(survey, turns: [survey.prompt])
            let wins = try await withThrowingTaskGroup(of: Bool.self) { group in
                for (n, store) in stores.enumerated() {
                    group.addTask { try await store.claim(surveyID: survey.id, owner: "process-\(n)", expected: nil) }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(wins == 1, "\(backend) round \(round): \(wins) claims succeeded")
        }
        for store in stores { await store.close() }
        await setup.close()
    }

    @Test(arguments: Backend.allCases)
    func anAnswerIsNeverReplacedAndFailuresAreNotCached(_ backend: Backend) async throws {
        let store = try await openStore(try backend.freshURL())
        let survey = sampleSurvey()
        try await store.createSurvey(survey, turns: [survey.prompt])
        let key = StoredRequestKey(turn: 0, panelistID: "a", sample: 0)
        let answer = StoredResponse(text: "kept", latencyMs: 5)
        try await store.recordAnswer(surveyID: survey.id, key: key, cacheKey: "same", request: sampleRequest,
                                     response: answer, attempts: 1, fromCache: false)
        try await store.recordPending(surveyID: survey.id, key: key, cacheKey: "same", request: sampleRequest)
        try await store.recordFailure(surveyID: survey.id, key: key, cacheKey: "same", request: sampleRequest,
                                      error: "late failure", attempts: 1)
        let rows = try await store.requests(surveyID: survey.id)
        #expect(rows.count == 1 && rows[0].state == .answered && rows[0].response?.text == "kept")
        #expect(try await store.cachedResponse(cacheKey: "same") == answer)

        let other = StoredRequestKey(turn: 0, panelistID: "b", sample: 0)
        try await store.recordFailure(surveyID: survey.id, key: other, cacheKey: "bad", request: sampleRequest,
                                      error: "HTTP 429", attempts: 4)
        #expect(try await store.cachedResponse(cacheKey: "bad") == nil)
        await store.close()
    }

    @Test(arguments: Backend.allCases)
    func aFailedTransactionLeavesNothingHalfWritten(_ backend: Backend) async throws {
        let store = try await openStore(try backend.freshURL())
        let survey = sampleSurvey()
        try await store.createSurvey(survey, turns: ["one"])
        // Same id again: the survey row fails after nothing else was written; its turns must not appear.
        var duplicate = sampleSurvey(id: survey.id, prompt: "duplicate")
        duplicate.panelSize = 9
        await #expect(throws: StoreError.self) { try await store.createSurvey(duplicate, turns: ["x", "y", "z"]) }
        #expect(try await store.turns(surveyID: survey.id).map(\.prompt) == ["one"])
        #expect(try await store.survey(id: survey.id).panelSize == 2)
        await store.close()
    }

    @Test(arguments: Backend.allCases)
    func anOlderDatabaseUpgradesInPlace(_ backend: Backend) async throws {
        let url = try backend.freshURL()
        let old = try await openStore(url, schemaVersion: 1)
        #expect(try await old.schemaVersion() == 1)
        let survey = sampleSurvey()
        try await old.createSurvey(survey, turns: [survey.prompt])
        let key = StoredRequestKey(turn: 0, panelistID: "a", sample: 0)
        try await old.recordAnswer(surveyID: survey.id, key: key, cacheKey: "k", request: sampleRequest,
                                   response: StoredResponse(text: "from v1", latencyMs: 1), attempts: 1, fromCache: false)
        await old.close()

        let upgraded = try await openStore(url)
        #expect(try await upgraded.schemaVersion() == 7)
        #expect(try await upgraded.survey(id: survey.id).prompt == survey.prompt)
        #expect(try await upgraded.requests(surveyID: survey.id).first?.response?.text == "from v1")
        try await upgraded.saveAnalysis(StoredAnalysis(surveyID: survey.id, turn: 0, engine: "v2", report: Data("{}".utf8)))
        #expect(try await upgraded.latestAnalysis(surveyID: survey.id)?.engine == "v2")
        await upgraded.close()
    }

    @Test(arguments: Backend.allCases)
    func concurrentStoresOnOneDatabaseLoseNothing(_ backend: Backend) async throws {
        let url = try backend.freshURL()
        let survey = sampleSurvey()
        let first = try await openStore(url)
        try await first.createSurvey(survey, turns: [survey.prompt])
        await first.close()
        // Four connections (as four processes would hold), 40 writes each, all at once.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<4 {
                group.addTask {
                    let store = try await openStore(url)
                    defer { Task { await store.close() } }
                    for i in 0..<40 {
                        let key = StoredRequestKey(turn: 0, panelistID: "w\(writer)", sample: i)
                        try await store.recordPending(surveyID: survey.id, key: key, cacheKey: "c\(writer)-\(i)",
                                                      request: sampleRequest)
                        try await store.recordAnswer(surveyID: survey.id, key: key, cacheKey: "c\(writer)-\(i)",
                                                     request: sampleRequest,
                                                     response: StoredResponse(text: "\(writer)/\(i)", latencyMs: i),
                                                     attempts: 1, fromCache: false)
                    }
                }
            }
            try await group.waitForAll()
        }
        let check = try await openStore(url)
        let rows = try await check.requests(surveyID: survey.id)
        #expect(rows.count == 160)
        #expect(rows.allSatisfy { $0.state == .answered && $0.response?.text == "\($0.key.panelistID.dropFirst())/\($0.key.sample)" })
        await check.close()
    }

    /// Found by a fresh-user pass: a PostgreSQL restart during a survey used to hang the next write forever.
    @Test(.enabled(if: PostgresTestCluster.unavailableReason == nil))
    func aRestartedServerIsReconnectedTo() async throws {
        // A cluster of its own: restarting the shared one would cut every other test's connections.
        let cluster = try PostgresTestCluster()
        defer { cluster.stop() }
        let store = try await openStore(try DatabaseURL(parsing: cluster.url()))
        let survey = sampleSurvey()
        try await store.createSurvey(survey, turns: [survey.prompt])
        try cluster.restart()
        let key = StoredRequestKey(turn: 0, panelistID: "a", sample: 0)
        try await store.recordAnswer(surveyID: survey.id, key: key, cacheKey: "k", request: sampleRequest,
                                     response: StoredResponse(text: "after the restart", latencyMs: 1), attempts: 1,
                                     fromCache: false)
        #expect(try await store.requests(surveyID: survey.id).first?.response?.text == "after the restart")
        await store.close()
    }
}
