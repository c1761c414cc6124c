import HTTPTypes
import Hummingbird

/// Headers every response should carry, whatever handler made it (the API's generated handlers set only the
/// content type):
///
/// - `X-Content-Type-Options: nosniff` everywhere; `; charset=utf-8` on text types that lack a charset (all
///   of Converge's text is UTF-8);
/// - on HTML without a Content-Security-Policy (the API's HTML report): the report's policy, no script at all;
/// - on `text/event-stream`: `Cache-Control: no-cache` and `X-Accel-Buffering: no`, so that caches and
///   buffering proxies pass events through as they are sent.
struct ResponseHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.xContentTypeOptions] = "nosniff"
        guard let type = response.headers[.contentType]?.lowercased() else { return response }
        if type.hasPrefix("text/event-stream") {
            for field in SurveyEventStream.headers where field.name != .contentType {
                response.headers[field.name] = field.value
            }
        } else if type.hasPrefix("text/") && !type.contains("charset") {
            response.headers[.contentType] = (response.headers[.contentType] ?? type) + "; charset=utf-8"
        }
        if type.hasPrefix("text/html") && response.headers[.contentSecurityPolicy] == nil {
            for field in Pages<ConvergeRequestContext>.reportHeaders
            where field.name == .contentSecurityPolicy || field.name == .referrerPolicy {
                response.headers[field.name] = field.value
            }
        }
        return response
    }
}
