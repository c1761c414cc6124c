import Foundation
import Logging
import SQLKit

/// Rows as store records, and times as the Unix milliseconds the tables keep.
extension SQLSurveyStore {
    static func survey(from row: any SQLRow) throws -> StoredSurvey {
        StoredSurvey(id: try row.decode(column: "id", as: String.self),
                     status: SurveyStatus(rawValue: try row.decode(column: "status", as: String.self)) ?? .running,
                     createdAt: date(try row.decode(column: "created_at", as: Int.self)),
                     updatedAt: date(try row.decode(column: "updated_at", as: Int.self)),
                     prompt: try row.decode(column: "prompt", as: String.self),
                     panelSize: try row.decode(column: "panel_size", as: Int.self),
                     spec: Data(try row.decode(column: "spec", as: String.self).utf8),
                     owner: (try? row.decode(column: "owner", as: String?.self)) ?? nil)
    }

    static func response(from row: any SQLRow) throws -> StoredResponse {
        StoredResponse(text: try row.decode(column: "response_text", as: String.self),
                       latencyMs: try row.decode(column: "latency_ms", as: Int?.self) ?? 0,
                       inputTokens: try row.decode(column: "input_tokens", as: Int?.self),
                       outputTokens: try row.decode(column: "output_tokens", as: Int?.self),
                       finishReason: try row.decode(column: "finish_reason", as: String?.self),
                       requestID: try row.decode(column: "provider_request_id", as: String?.self),
                       model: try row.decode(column: "response_model", as: String?.self))
    }

    static func millis(_ date: Date) -> Int { Int((date.timeIntervalSince1970 * 1000).rounded()) }
    static func now() -> Int { millis(Date()) }
    static func date(_ millis: Int) -> Date { Date(timeIntervalSince1970: Double(millis) / 1000) }
}
