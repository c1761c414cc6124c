import HTTPTypes
import Hummingbird

/// Adds `Cache-Control: no-cache` and `X-Accel-Buffering: no` to every `text/event-stream` response (the
/// API's generated handler sets only the content type), so that caches and buffering proxies pass events
/// through as they are sent.
struct EventStreamHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        if response.headers[.contentType]?.lowercased().hasPrefix("text/event-stream") == true {
            for field in SurveyEventStream.headers where field.name != .contentType {
                response.headers[field.name] = field.value
            }
        }
        return response
    }
}
