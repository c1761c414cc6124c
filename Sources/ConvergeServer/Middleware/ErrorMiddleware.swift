import Foundation
import HTTPTypes
import Hummingbird
import Logging
import OpenAPIRuntime

/// Turns every error into the JSON error shape with the right status (`APIError`): the server's own
/// `APIError`s as they are, request decoding failures from the generated code as 400 naming the field, wrong
/// media types as 415, unacceptable formats as 406, Hummingbird's HTTP errors with their status. Anything
/// else is a bug: 500 with a generic message, logged with the error's type (never the request body). A browser
/// asking for a page gets the same status and message as an HTML page.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let apiError = Self.apiError(for: error)
            if apiError.status.code >= 500 {
                context.logger.error("request failed", metadata: [
                    "error.type": "\(String(reflecting: type(of: error)))",
                    "error.cause": "\((error as? ServerError).map { $0.causeDescription } ?? "-")",
                    "error.underlying": "\((error as? ServerError).map { String(reflecting: type(of: $0.underlyingError)) } ?? "-")",
                ])
            }
            if Self.wantsPage(request) { return apiError.pageResponse() }
            return apiError.response()
        }
    }

    /// A browser asking for a page (not the API, `Accept` naming `text/html`) gets the error as a page.
    static func wantsPage(_ request: Request) -> Bool {
        AccessPolicy.kind(of: request.uri.path) != .api
            && request.headers[.accept]?.lowercased().contains("text/html") == true
    }

    static func apiError(for error: any Error) -> APIError {
        switch error {
        case let error as APIError:
            return error
        case let error as ServerError:
            if let inner = error.underlyingError as? APIError { return inner }
            if let decoding = error.underlyingError as? DecodingError, error.httpStatus == .badRequest {
                // Without a body (GET, DELETE) what failed to decode is a query parameter, which the
                // decoder does not name: say so, and name the parameters sent.
                if error.request.method == .get || error.request.method == .head || error.request.method == .delete {
                    return Self.queryError(decoding, query: error.request.path ?? "")
                }
                return Self.apiError(for: decoding)
            }
            let status = error.httpStatus
            if status.code >= 500 { return .internalError }
            return APIError(status, code: APIError.code(for: status), error.causeDescription)
        case let error as HTTPError:
            if error.status.code >= 500 { return .internalError }
            var apiError = APIError(error.status, code: APIError.code(for: error.status),
                                    error.body ?? error.status.reasonPhrase.lowercased())
            apiError.headers = error.headers
            return apiError
        case let error as any HTTPResponseError:
            if error.status.code >= 500 { return .internalError }
            return APIError(error.status, code: APIError.code(for: error.status), error.status.reasonPhrase.lowercased())
        default:
            return .internalError
        }
    }

    /// A 400 naming the field a decoding error is about (`answers[0].text`).
    static func apiError(for error: DecodingError) -> APIError {
        switch error {
        case let .keyNotFound(key, context):
            let field = path(context.codingPath + [key])
            return .invalidField(field, "missing required field")
        case let .typeMismatch(type, context):
            let field = path(context.codingPath)
            return .invalidField(field.isEmpty ? "body" : field, "expected \(typeName(type))")
        case let .valueNotFound(type, context):
            let field = path(context.codingPath)
            return .invalidField(field.isEmpty ? "body" : field, "expected \(typeName(type)), found null")
        case let .dataCorrupted(context):
            let field = path(context.codingPath)
            if field.isEmpty {
                return APIError(.badRequest, code: .invalidJSON, "the request body is not valid JSON: \(context.debugDescription)")
            }
            return .invalidField(field, context.debugDescription)
        @unknown default:
            return APIError(.badRequest, code: .badRequest, "the request could not be decoded")
        }
    }

    /// A 400 for a query parameter that does not decode (`?format=xml`, `?limit=abc`), field `query`.
    static func queryError(_ error: DecodingError, query path: String) -> APIError {
        let detail: String = switch error {
        case let .typeMismatch(type, _), let .valueNotFound(type, _): "expected \(typeName(type))"
        case let .dataCorrupted(context): context.debugDescription
        case let .keyNotFound(key, _): "missing \(key.stringValue)"
        @unknown default: "not valid"
        }
        let names = path.split(separator: "?", maxSplits: 1).dropFirst().first?
            .split(separator: "&").map { $0.split(separator: "=", maxSplits: 1).first.map(String.init) ?? "" } ?? []
        let sent = names.isEmpty ? "" : " (sent: \(names.joined(separator: ", ")))"
        return .invalidField("query", "a query parameter is not valid\(sent): \(detail)")
    }

    /// `answers[2].panelist` from a coding path.
    static func path(_ codingPath: [any CodingKey]) -> String {
        var text = ""
        for key in codingPath {
            if let index = key.intValue {
                text += "[\(index)]"
            } else {
                text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return text
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "a boolean"
        case is Int.Type, is Int64.Type, is Int32.Type: "an integer"
        case is Double.Type, is Float.Type: "a number"
        case is [Any].Type: "an array"
        case is [String: Any].Type: "an object"
        default: "\(type)"
        }
    }
}
