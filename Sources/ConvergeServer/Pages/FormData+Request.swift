import ConvergeForms
import HTTPTypes
import Hummingbird

extension FormData {
    /// Reads the request's body as a form (``FormData/parse(_:boundary:)``).
    /// - Throws: `APIError` 415 when the body is not `multipart/form-data` with a boundary; 413 when larger than
    ///   `maxBytes`; 400 when it does not parse or a part has no name.
    static func read(_ request: Request, maxBytes: Int) async throws -> FormData {
        guard let boundary = boundary(ofContentType: request.headers[.contentType] ?? "") else {
            throw APIError(.unsupportedMediaType, code: .unsupportedMediaType,
                           "the form must be sent as multipart/form-data with a boundary")
        }
        let body = try await request.body.collect(upTo: maxBytes)
        do throws(FormData.Failure) {
            return try parse(body, boundary: boundary)
        } catch {
            switch error {
            case .malformed:
                throw APIError(.badRequest, code: .badRequest, "the form could not be read (malformed multipart data)")
            case .unnamedPart:
                throw APIError(.badRequest, code: .badRequest, "a part of the form has no name")
            }
        }
    }
}
