import Foundation
import HTTPTypes
import OpenAPIRuntime

/// Rejects `null` in optional request fields whose schema does not allow it (openapi.yaml), with 400 naming
/// the field. The generated decoders read an explicit `null` as an absent value, which would accept requests
/// the spec calls invalid; this keeps the server exactly as strict as its spec.
struct NullFieldsMiddleware: ServerMiddleware {
    /// Per operation: optional top-level fields that may not be null, and the same for each item of an array field.
    struct Rule: Sendable {
        var fields: [String]
        var itemFields: [String: [String]]
    }

    static let rules: [String: Rule] = [
        "createAnalysis": Rule(fields: ["rubric", "blind", "similarity"], itemFields: ["answers": ["label", "model"]]),
        "createSurvey": Rule(fields: ["followUps", "samples", "temperature", "maxTokens", "system", "rubric", "blind"],
                             itemFields: ["panel": ["id", "label", "temperature", "system"]]),
        "createBatch": Rule(fields: ["followUps", "samples", "temperature", "maxTokens", "system", "rubric", "blind"],
                            itemFields: ["panel": ["id", "label", "temperature", "system"], "prompts": ["rubric"]]),
    ]

    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        guard let rule = Self.rules[operationID], let body else { return try await next(request, body, metadata) }
        // The body is already complete and within the server's limit (BodyLimitMiddleware).
        let bytes = try await [UInt8](collecting: body, upTo: .max)
        if let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] {
            for field in rule.fields where object[field] is NSNull {
                throw APIError.invalidField(field, "must not be null (leave it out instead)")
            }
            for (array, fields) in rule.itemFields {
                for (n, item) in (object[array] as? [Any] ?? []).enumerated() {
                    guard let item = item as? [String: Any] else { continue }
                    for field in fields where item[field] is NSNull {
                        throw APIError.invalidField("\(array)[\(n)].\(field)", "must not be null (leave it out instead)")
                    }
                }
            }
        }
        return try await next(request, HTTPBody(bytes), metadata)
    }
}
