import Foundation
import HTTPTypes
import Hummingbird

/// An error answered as `{"error": {"code", "message", "field"?}}` with an HTTP status (openapi.yaml, `Error`).
///
/// Messages are for people and name the offending field; they never hold tokens, keys or request bodies.
package struct APIError: Error, Sendable, Equatable {
    /// The stable, machine-readable codes of openapi.yaml's `Error.code`, the whole set: a client can switch
    /// over them. The raw value is what the JSON body holds.
    package enum Code: String, Sendable, Hashable, CaseIterable {
        case badRequest = "bad_request"
        case invalidJSON = "invalid_json"
        case invalidField = "invalid_field"
        case unauthorized
        case forbidden
        case notFound = "not_found"
        case methodNotAllowed = "method_not_allowed"
        case notAcceptable = "not_acceptable"
        case payloadTooLarge = "payload_too_large"
        case unsupportedMediaType = "unsupported_media_type"
        case misdirectedRequest = "misdirected_request"
        case unprocessable
        case conflict
        case tooManyRequests = "too_many_requests"
        case unavailable
        case `internal`
        /// A status without a more specific code.
        case error
    }

    package var status: HTTPResponse.Status
    /// Stable, machine-readable code (`invalid_field`, `unauthorized`, ...).
    package var code: Code
    package var message: String
    /// The path of the offending field (`answers[2].panelist`), when one field is wrong.
    package var field: String?
    /// Extra response headers (`WWW-Authenticate`, `Allow`).
    package var headers: HTTPFields

    package init(_ status: HTTPResponse.Status, code: Code, _ message: String, field: String? = nil,
                headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = headers
    }

    static func invalidField(_ field: String, _ message: String) -> APIError {
        APIError(.badRequest, code: .invalidField, "\(field): \(message)", field: field)
    }

    static func unprocessable(_ field: String, _ message: String) -> APIError {
        APIError(.unprocessableContent, code: .unprocessable, message, field: field)
    }

    /// 409: the resource is in a state that does not allow the request (a survey being asked, no report yet).
    static func conflict(_ message: String) -> APIError { APIError(.conflict, code: .conflict, message) }

    /// 404 for the resource named in `message`.
    static func notFound(_ message: String) -> APIError { APIError(.notFound, code: .notFound, message) }

    /// 503 (`unavailable`): the server cannot answer now; `message` says when to try again.
    static func unavailable(_ message: String) -> APIError {
        APIError(.serviceUnavailable, code: .unavailable, message)
    }

    static func payloadTooLarge(limit: Int) -> APIError {
        APIError(.contentTooLarge, code: .payloadTooLarge, "the request body is larger than \(limit) bytes")
    }

    static let unauthorized = APIError(
        .unauthorized, code: .unauthorized, "a valid API token is required: send Authorization: Bearer TOKEN",
        headers: [.wwwAuthenticate: "Bearer realm=\"converge\""])

    static let internalError = APIError(.internalServerError, code: .internal,
                                        "the server failed to handle the request; it has been logged")

    /// The stable code for a status without a more specific one.
    static func code(for status: HTTPResponse.Status) -> Code {
        switch status.code {
        case 400: .badRequest
        case 401: .unauthorized
        case 403: .forbidden
        case 404: .notFound
        case 405: .methodNotAllowed
        case 406: .notAcceptable
        case 413: .payloadTooLarge
        case 415: .unsupportedMediaType
        case 421: .misdirectedRequest
        case 422: .unprocessable
        case 429: .tooManyRequests
        case 500...: .internal
        default: .error
        }
    }

    private struct Body: Encodable {
        struct Detail: Encodable {
            var code: String
            var message: String
            var field: String?
        }
        var error: Detail
    }

    /// The JSON body, keys sorted.
    var body: Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = try? encoder.encode(Body(error: .init(code: code.rawValue, message: message, field: field)))
        return (data ?? Data(#"{"error":{"code":"internal","message":"error"}}"#.utf8)) + Data("\n".utf8)
    }

    /// The error as a small HTML page, for browsers on the pages (same status and extra headers).
    func pageResponse() -> Response {
        var headers = headers
        for field in Pages<ConvergeRequestContext>.pageHeaders { headers[field.name] = field.value }
        let html = HTML.page(title: status.reasonPhrase,
                             body: "<h2>\(HTML.escape(status.reasonPhrase))</h2>\n<p class=\"error\" role=\"alert\">\(HTML.escape(message))</p>\n",
                             signedIn: false, navigation: status != .unauthorized)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// The HTTP response.
    func response() -> Response {
        var headers = headers
        headers[.contentType] = "application/json; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}
