import Foundation
import HTTPTypes
import OpenAPIRuntime

/// Sends `Location` as the path it is. The generated code writes header values percent-encoded (OpenAPI's
/// `simple` style), which would turn `/v1/surveys/ID` into `%2Fv1%2Fsurveys%2FID`; clients follow `Location`
/// as a URI reference (RFC 9110, section 10.2.2), so it must stay a plain path.
struct LocationHeaderMiddleware: ServerMiddleware {
    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        var (response, responseBody) = try await next(request, body, metadata)
        if let location = response.headerFields[.location], let decoded = location.removingPercentEncoding {
            response.headerFields[.location] = decoded
        }
        return (response, responseBody)
    }
}
