import HTTPTypes
import Hummingbird
import OpenAPIHummingbird
import OpenAPIRuntime

/// Registers routes on a Hummingbird router and remembers each path's methods, so that every other method on
/// a known path can answer 405 with an `Allow` header (`registerMethodNotAllowed()`). The generated OpenAPI
/// handlers register through it (it is their `ServerTransport`), and so do the pages.
final class RouteRegistry<Context: RequestContext>: ServerTransport {
    let router: Router<Context>
    /// Methods by path, in Hummingbird's path syntax (`/v1/surveys/:id`), in registration order.
    private(set) var methods: [(path: String, methods: [HTTPRequest.Method])] = []

    init(router: Router<Context>) {
        self.router = router
    }

    func register(
        _ handler: @escaping @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?),
        method: HTTPRequest.Method,
        path: String
    ) throws {
        router.register(handler, method: method, path: path)
        record(path, method)
    }

    /// Adds a plain Hummingbird route.
    func on(_ path: String, method: HTTPRequest.Method,
            use handler: @escaping @Sendable (Request, Context) async throws -> Response) {
        router.on(RouterPath(path), method: method, use: handler)
        record(path, method)
    }

    private func record(_ path: String, _ method: HTTPRequest.Method) {
        if let i = methods.firstIndex(where: { $0.path == path }) {
            methods[i].methods.append(method)
        } else {
            methods.append((path, [method]))
        }
    }

    /// The methods answered with 405 where a path lacks them: RFC 9110's and PATCH, and QUERY (the safe method
    /// with a body, draft-ietf-httpbis-safe-method-w-body). Any other method stays 404.
    static var knownMethods: [HTTPRequest.Method] {
        [.get, .head, .post, .put, .patch, .delete, .options, .trace, HTTPRequest.Method("QUERY")!]
    }

    /// For every recorded path, answers each other known method with 405 and `Allow` (GET implies HEAD,
    /// which the router generates).
    func registerMethodNotAllowed() {
        for (path, allowed) in methods {
            var allowedSet = Set(allowed)
            if allowedSet.contains(.get) { allowedSet.insert(.head) }
            let allow = Self.knownMethods.filter(allowedSet.contains).map(\.rawValue).joined(separator: ", ")
            for method in Self.knownMethods where !allowedSet.contains(method) {
                router.on(RouterPath(path), method: method) { request, _ -> Response in
                    throw APIError(.methodNotAllowed, code: .methodNotAllowed,
                                   "\(request.method.rawValue) is not allowed on \(path); allowed: \(allow)",
                                   headers: [.allow: allow])
                }
            }
        }
    }
}
