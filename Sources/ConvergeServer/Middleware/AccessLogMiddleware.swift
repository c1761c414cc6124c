import HTTPTypes
import Hummingbird

/// One log line per request once answered: method, path (without the query), status and duration in
/// milliseconds, with the request id the context's logger carries. Never headers (tokens) or bodies.
struct AccessLogMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let response = try await next(request, context)
        let elapsed = ContinuousClock.now - start
        context.logger.info("request", metadata: [
            "http.method": .string(request.method.rawValue),
            "http.path": .string(request.uri.path),
            "http.status": .stringConvertible(response.status.code),
            "duration_ms": .stringConvertible(Double(elapsed.nanoseconds) / 1e6),
        ])
        return response
    }
}
