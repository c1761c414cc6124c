import Hummingbird
import Logging
import NIOCore
import OpenAPIRuntime

/// The request context of the server's routes.
public struct ConvergeRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The client's IP address (`nil` in router tests, which have no connection).
    public var remoteHost: String?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteHost = source.channel.remoteAddress?.ipAddress
    }
}

/// Builds the Converge server application (Hummingbird 2): the API from openapi.yaml (generated stubs,
/// `APIHandler`), the pages, and the middleware every request passes through, outermost first:
///
/// 1. `X-Request-Id` on every response, then common response headers (`ResponseHeadersMiddleware`), 2. access
/// log (method, path, status, duration; never headers or bodies),
/// 3. metrics by route, method and status, 4. errors as JSON (`ErrorMiddleware`), 5. same-origin checks
/// for page forms and, without tokens, a loopback `Host` (`SameOriginMiddleware`), 6. authentication
/// (`AuthMiddleware`), 7. the body size limit (413).
///
/// A path answers 405 with `Allow` for a method it does not have, 404 if unknown; GET routes answer HEAD.
///
/// - Parameters:
///   - configuration: host, port, tokens, limits. Not validated here: `converge serve` calls `validate()`.
///   - dependencies: what the handlers use (analyses, metrics, the survey service).
///   - logger: the server's logger; each request's logger adds `hb.request.id`.
///   - onServerRunning: called once listening, with the bound port (useful with port 0).
/// - Throws: when the generated handlers cannot be registered.
package func buildApplication(
    configuration: ServerConfiguration,
    dependencies: ServerDependencies = ServerDependencies(),
    logger: Logger = Logger(label: "converge.server"),
    onServerRunning: @escaping @Sendable (_ port: Int) async -> Void = { _ in }
) throws -> Application<RouterResponder<ConvergeRequestContext>> {
    let router = Router(context: ConvergeRequestContext.self, options: [.autoGenerateHeadEndpoints])
    let sessions = SessionStore(secret: configuration.tokens.sessionSecret)
    router.add(middleware: RequestIDMiddleware())
    router.add(middleware: ResponseHeadersMiddleware())
    router.add(middleware: AccessLogMiddleware())
    router.add(middleware: MetricsMiddleware())
    router.add(middleware: ErrorMiddleware())
    router.add(middleware: SameOriginMiddleware(requireLoopbackHost: configuration.tokens.isEmpty))
    router.add(middleware: AuthMiddleware(tokens: configuration.tokens, sessions: sessions))
    router.add(middleware: BodyLimitMiddleware(maxBytes: configuration.maxBodyBytes))

    let routes = RouteRegistry(router: router)
    let api = APIHandler(dependencies: dependencies, version: configuration.version)
    // Report JSON exactly as `converge analyze --format json` writes it (JSONRenderer's options).
    try api.registerHandlers(
        on: routes,
        configuration: Configuration(jsonEncodingOptions: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]),
        middlewares: [NullFieldsMiddleware(), LocationHeaderMiddleware()])
    Pages<ConvergeRequestContext>(dependencies: dependencies, tokens: configuration.tokens, sessions: sessions,
                                  loginThrottle: LoginThrottle(), maxBodyBytes: configuration.maxBodyBytes)
        .register(on: routes)
    if let mcp = dependencies.mcp { MCPEndpoint.register(on: routes, sessions: mcp, maxBodyBytes: configuration.maxBodyBytes) }
    routes.registerMethodNotAllowed()

    return Application(
        router: router,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port),
                             serverName: "converge/\(configuration.version)"),
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? configuration.port) },
        logger: logger
    )
}
