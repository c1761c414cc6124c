import ConvergeProviders
import ConvergeRunner
import ConvergeStore
import Foundation

/// Stored surveys and runner events as the API's values (openapi.yaml: `SurveySummary`, `SurveyDetail`,
/// `SurveyProgress`, `SurveyResponse`). Pure functions of what the store holds; nothing here holds a key.
enum SurveyViews {
    static func links(_ id: String) -> Components.Schemas.SurveyLinks {
        .init(survey: "/v1/surveys/\(id)", events: "/v1/surveys/\(id)/events", report: "/v1/surveys/\(id)/report")
    }

    static func status(_ status: SurveyStatus) -> Components.Schemas.SurveyStatus {
        Components.Schemas.SurveyStatus(rawValue: status.rawValue) ?? .failed
    }

    static func summary(_ record: StoredSurvey) -> Components.Schemas.SurveySummary {
        .init(id: record.id, status: status(record.status), prompt: record.prompt, panelSize: record.panelSize,
              createdAt: record.createdAt, updatedAt: record.updatedAt, links: links(record.id))
    }

    /// Every request of every turn, panel order then sample; a request with no row yet is `waiting` while the
    /// survey may still ask it (`running`, `interrupted`). In a finished survey it is `failed`, "not asked",
    /// as the runner reports a thread whose earlier turn failed.
    static func detail(_ loaded: SurveyArchive.Loaded) -> Components.Schemas.SurveyDetail {
        var rows: [StoredRequestKey: StoredRequest] = [:]
        for row in loaded.requests { rows[row.key] = row }
        let spec = loaded.spec
        let finished = loaded.record.status != .running && loaded.record.status != .interrupted
        let turns = loaded.turns.map { turn in
            Components.Schemas.SurveyTurn(index: turn.index, prompt: turn.prompt, requests: spec.panel.flatMap { member in
                (0..<spec.samples).map { sample in
                    let key = StoredRequestKey(turn: turn.index, panelistID: member.id, sample: sample)
                    guard let row = rows[key] else {
                        guard finished else {
                            return Components.Schemas.SurveyRequestState(panelist: member.id, sample: sample, state: .waiting,
                                                                         attempts: 0, fromCache: false)
                        }
                        // Worded as the runner words it live: turns counted from 1, the failed turn's cause.
                        let failed = (0..<turn.index).lazy.compactMap { earlier in
                            rows[StoredRequestKey(turn: earlier, panelistID: member.id, sample: sample)]
                                .flatMap { $0.state == .failed ? (earlier, $0.error ?? "failed") : nil }
                        }.first
                        return Components.Schemas.SurveyRequestState(
                            panelist: member.id, sample: sample, state: .failed,
                            error: failed.map { "not asked: turn \($0.0 + 1) failed (\($0.1))" } ?? "not asked",
                            attempts: 0, fromCache: false)
                    }
                    let state: Components.Schemas.SurveyRequestState.StatePayload = switch row.state {
                    case .pending: .pending
                    case .answered: .answered
                    case .failed: .failed
                    }
                    return Components.Schemas.SurveyRequestState(
                        panelist: member.id, sample: sample, state: state, text: row.response?.text,
                        latencyMs: row.response?.latencyMs, inputTokens: row.response?.inputTokens,
                        outputTokens: row.response?.outputTokens, error: row.state == .failed ? row.error : nil,
                        attempts: row.attempts, fromCache: row.fromCache)
                }
            })
        }
        let record = loaded.record
        return .init(id: record.id, status: status(record.status), prompt: record.prompt, createdAt: record.createdAt,
                     updatedAt: record.updatedAt, samples: spec.samples, blind: spec.blind ?? false,
                     similarity: spec.similarity.flatMap(Components.Schemas.Similarity.init(rawValue:)),
                     panel: spec.panel.map { .init(id: $0.id, label: $0.label, model: $0.model) },
                     turns: turns, links: links(record.id))
    }

    /// The Server-Sent Events for one runner event: `progress`, and for an answer also `response` with its text.
    static func events(for event: SurveyEvent) -> [ServerSentEvent] {
        let key = event.key
        typealias Progress = Components.Schemas.SurveyProgress
        switch event {
        case .started(_, let attempt):
            return [.json("progress", Progress(_type: .started, turn: key.turn, panelist: key.panelistID,
                                               sample: key.sample, attempt: attempt))]
        case .retrying(_, let attempt, let delay, let reason):
            return [.json("progress", Progress(_type: .retrying, turn: key.turn, panelist: key.panelistID,
                                               sample: key.sample, attempt: attempt, delaySeconds: delay,
                                               reason: reason))]
        case .answered(_, let response):
            return [
                .json("progress", Progress(_type: .answered, turn: key.turn, panelist: key.panelistID,
                                           sample: key.sample, latencyMs: response.latencyMs)),
                .json("response", Components.Schemas.SurveyResponse(
                    turn: key.turn, panelist: key.panelistID, sample: key.sample, text: response.text,
                    latencyMs: response.latencyMs, inputTokens: response.inputTokens,
                    outputTokens: response.outputTokens)),
            ]
        case .failed(_, let cause):
            return [.json("progress", Progress(_type: .failed, turn: key.turn, panelist: key.panelistID,
                                               sample: key.sample, cause: cause))]
        }
    }
}
