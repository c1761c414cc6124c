import Foundation

/// The Server-Sent Events stream of one survey, as the API (`GET /v1/surveys/{id}/events`) and the live survey
/// page (`GET /surveys/{id}/events`) send it: `state` first (the whole `SurveyDetail`), then the run's live
/// `progress` and `response` events, then `complete`. A survey this server is not asking gets `state` and
/// `complete` at once, unless its threads are in the work queue of `converge worker` (PostgreSQL): then its events
/// come from the database (``SurveyService/subscribeQueued(_:existing:)``), as if it were asked here.
///
/// A comment line (`: keep-alive`) is sent every `heartbeat` while the stream is open, so that proxies and
/// browsers do not close an idle connection during a slow answer (HTML Living Standard, "Server-sent
/// events", notes on legacy proxy servers recommend one every 15 seconds).
enum SurveyEventStream {
    static let heartbeatBytes = ArraySlice(": keep-alive\n\n".utf8)

    /// - Parameter blinding: for the pages: a blind survey's events are relabelled (``BlindRelabel``).
    /// - Throws: `APIError` 404 for an unknown survey, 503 without a store.
    static func make(service: SurveyService, id: String, blinding: Bool = false,
                     heartbeat: Duration = .seconds(15)) async throws(APIError) -> AsyncStream<ArraySlice<UInt8>> {
        // Subscribe before reading the state, so that no event is missed; one that happened in between may
        // show both in `state` and live. An unknown id has no run to subscribe to and fails the load (404).
        let subscribed = await service.subscribe(id)
        let loaded = try await service.load(id)
        // A survey whose threads run on workers (queued by another process): fed by polling the database.
        let live = if subscribed == nil, loaded.record.status == .running {
            await service.subscribeQueued(id, existing: loaded.requests)
        } else {
            subscribed
        }
        let relabel = blinding && loaded.spec.blind == true ? BlindRelabel(panel: loaded.spec.panel) : nil
        let bytes: @Sendable (ServerSentEvent) -> ArraySlice<UInt8> = { relabel?.apply($0).bytes ?? $0.bytes }
        let state = ServerSentEvent.json("state", SurveyViews.detail(loaded))
        let (stream, continuation) = AsyncStream.makeStream(of: ArraySlice<UInt8>.self, bufferingPolicy: .unbounded)
        let pump = Task {
            continuation.yield(bytes(state))
            if let live {
                for await event in live { continuation.yield(bytes(event)) }
            } else {
                let status = SurveyViews.status(loaded.record.status)
                let report = try? await service.store.latestAnalysis(surveyID: id)
                let completion = Components.Schemas.SurveyCompletion(
                    status: status, report: report == nil ? nil : SurveyViews.links(id).report)
                continuation.yield(bytes(ServerSentEvent.json("complete", completion)))
            }
            continuation.finish()
        }
        let beat = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: heartbeat)
                if Task.isCancelled { break }
                continuation.yield(heartbeatBytes)
            }
        }
        continuation.onTermination = { _ in
            pump.cancel()
            beat.cancel()
        }
        return stream
    }
}
