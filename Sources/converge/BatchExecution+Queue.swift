import ConvergeRunner
import ConvergeStore
import Foundation

/// `batch --queue`: the batch's surveys are claimed as in-process, their threads queued for `converge worker`
/// processes at once, and followed in the database (a progress line when it changes, at most one a second);
/// once every thread is done each survey is analysed here, in batch order. Ctrl-C stops following (the
/// workers go on with what is queued) and exits 130.
extension BatchExecution {
    func followAll(_ planned: [Planned], queue: any WorkQueue, batchID: String,
                   total: Int) async throws -> (failures: Int, storeError: StoreError?) {
        try await claimAll(planned, batchID: batchID)
        let release = {
            for item in planned { _ = try? await store.claim(surveyID: item.surveyID, owner: nil, expected: SurveyOwner.current) }
        }
        var jobs: [QueueJob] = []
        for item in planned {
            try await store.setStatus(surveyID: item.surveyID, .running)
            jobs += QueueFollower.jobs(surveyID: item.surveyID, plan: item.plan, useCache: useCache)
        }
        do {
            try await queue.enqueue(jobs)
            note("converge: batch \(batchID): \(jobs.count) threads of \(planned.count) surveys queued for `converge worker`")
            var lastNote = ContinuousClock.now - .seconds(2)
            try await QueueFollower(queue: queue).follow(surveyIDs: planned.map(\.surveyID)) { progress in
                guard progress.finished || ContinuousClock.now - lastNote >= .seconds(1) else { return }
                lastNote = .now
                note("converge: queue: \(progress.done)/\(progress.total) threads done, \(progress.leased) being asked, "
                     + "\(progress.surveysDone)/\(planned.count) surveys answered")
            }
        } catch is CancellationError {
            await release()
            throw CancellationError()
        } catch {
            await release()
            throw error
        }
        var failures = 0
        for (n, item) in planned.enumerated() {
            let result = SurveyArchive.result(of: try await SurveyArchive(store: store).load(item.surveyID))
            _ = try? await store.claim(surveyID: item.surveyID, owner: nil, expected: SurveyOwner.current)
            try await conclude(item, result: result, done: total - planned.count + n + 1, total: total)
            if !result.allAnswered { failures += 1 }
        }
        return (failures, nil)
    }
}
