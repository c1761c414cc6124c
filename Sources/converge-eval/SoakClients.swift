import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The soak's client mix, over real HTTP on loopback: analyses of AlpacaEval answer sets, surveys against the
/// scripted providers (followed on their event stream to the end, then their report), event streams that
/// connect and drop, survey reads and lists, page loads, bad and unauthenticated requests. Each call records
/// its route, status and latency in ``SoakRecord``.
struct SoakClients: Sendable {
    enum Action: CaseIterable, Sendable {
        case analysis, survey, readSurvey, droppedStream, list, page, badJSON, unknownSurvey, unauthorized
    }

    /// The order every client walks through, from its own offset: analyses and surveys most often.
    static let mix: [Action] = [.analysis, .survey, .readSurvey, .droppedStream, .analysis, .list, .page, .badJSON,
                                .survey, .unknownSurvey, .analysis, .unauthorized]

    let http: HTTPClient
    let record: SoakRecord
    let token: String
    /// `POST /v1/analyses` bodies, one per prompt.
    let analyses: [Data]
    /// The panel of every survey.
    let panel: [String]

    /// Runs client `n` until `deadline` or until the shared request budget is spent.
    func run(client n: Int, deadline: ContinuousClock.Instant, budget: Int) async {
        var step = n * 5
        while ContinuousClock.now < deadline, !Task.isCancelled, record.take(limit: budget) {
            let action = Self.mix[step % Self.mix.count]
            await perform(action, n: n, step: step)
            step += 1
        }
    }

    func perform(_ action: Action, n: Int, step: Int) async {
        switch action {
        case .analysis:
            let body = analyses[step % analyses.count]
            _ = await call("POST /v1/analyses", .POST, "/v1/analyses", body: body, expected: [200])
        case .survey:
            await survey(prompt: "Soak survey \(n)-\(step): how should a team cache the responses of a slow API?")
        case .readSurvey:
            guard let id = record.someSurvey(step) else { return }
            _ = await call("GET /v1/surveys/{id}", .GET, "/v1/surveys/\(id)", expected: [200])
        case .droppedStream:
            guard let id = record.someSurvey(step) else { return }
            await droppedStream(id)
        case .list:
            _ = await call("GET /v1/surveys", .GET, "/v1/surveys?limit=20", expected: [200])
        case .page:
            _ = await call("GET /login", .GET, "/login", authorized: false, expected: [200])
        case .badJSON:
            _ = await call("POST /v1/analyses (bad JSON)", .POST, "/v1/analyses", body: Data("{\"answers\": [".utf8),
                           expected: [400])
        case .unknownSurvey:
            _ = await call("GET /v1/surveys/{id} (unknown)", .GET, "/v1/surveys/no-such-survey-\(step)", expected: [404])
        case .unauthorized:
            _ = await call("POST /v1/analyses (no token)", .POST, "/v1/analyses", body: analyses[0], authorized: false,
                           expected: [401])
        }
    }

    /// A survey: created, followed on its event stream to the end, then its report read.
    func survey(prompt: String) async {
        let body = try? JSONSerialization.data(withJSONObject: ["prompt": prompt, "panel": panel])
        guard let created = await call("POST /v1/surveys", .POST, "/v1/surveys", body: body ?? Data(), expected: [202]),
              created.status == 202,
              let object = try? JSONSerialization.jsonObject(with: created.body) as? [String: Any],
              let id = object["id"] as? String else { return }
        record.created(survey: id, prompt: prompt)
        _ = await call("GET /v1/surveys/{id}/events", .GET, "/v1/surveys/\(id)/events", expected: [200], timeout: .seconds(120))
        // 409 when the survey is still running (its stream ended with a restart of the server).
        _ = await call("GET /v1/surveys/{id}/report", .GET, "/v1/surveys/\(id)/report", expected: [200, 409])
    }

    /// An event stream read for a moment, then dropped mid-stream.
    func droppedStream(_ id: String) async {
        let base = record.baseURL
        var request = HTTPClientRequest(url: base + "/v1/surveys/\(id)/events")
        request.headers.add(name: "authorization", value: "Bearer \(token)")
        let start = ContinuousClock.now
        do {
            let response = try await http.execute(request, timeout: .seconds(30))
            record.answered("GET /v1/surveys/{id}/events (dropped)", status: Int(response.status.code),
                            seconds: Self.seconds(since: start), expected: [200])
            // Read one chunk at most, then let go of the body: the connection closes under the server.
            for try await _ in response.body { break }
        } catch {
            record.unanswered("GET /v1/surveys/{id}/events (dropped)", base: base, error: error)
        }
    }

    struct Answer { var status: Int; var body: Data }

    /// One request; its answer (`nil` when none came) recorded under `route`.
    @discardableResult
    func call(_ route: String, _ method: HTTPMethod, _ path: String, body: Data? = nil, authorized: Bool = true,
              expected: Set<Int>, timeout: TimeAmount = .seconds(60)) async -> Answer? {
        let base = record.baseURL
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        if authorized { request.headers.add(name: "authorization", value: "Bearer \(token)") }
        if let body {
            request.headers.add(name: "content-type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: body))
        }
        let start = ContinuousClock.now
        do {
            let response = try await http.execute(request, timeout: timeout)
            let bytes = try await response.body.collect(upTo: 64 << 20)
            let status = Int(response.status.code)
            record.answered(route, status: status, seconds: Self.seconds(since: start), expected: expected)
            return Answer(status: status, body: Data(buffer: bytes))
        } catch {
            record.unanswered(route, base: base, error: error)
            return nil
        }
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    }
}
