import ConvergeAnalysis
import ConvergeMCP
import ConvergeProviders
import ConvergeStore
import Hummingbird
import Logging
import ServiceLifecycle

/// The similarity models a server offers: `model(name)` for `lexical`, `embedding`, `hybrid` or `nil` (the
/// server's default); it throws, with a message naming what is missing, for a matching the server cannot make.
public struct ServerMatching: Sendable {
    public let model: @Sendable (_ name: String?) throws -> any SimilarityModel

    public init(_ model: @escaping @Sendable (_ name: String?) throws -> any SimilarityModel) { self.model = model }

    /// Lexical matching only (no embedding model loaded).
    public static let lexicalOnly = ServerMatching(MCPContext.lexicalOnly)
}

/// The composition root of `converge serve`: the whole server built from its configuration, once, in one
/// place. `converge serve` runs it (``serviceGroup(logger:)``) and the server tests
/// build it the same way, so that they run the production wiring.
///
/// What it wires: a ``SurveyService`` over `store` (when there is one) with the providers and the config file's
/// run settings, the MCP sessions of `/mcp` (ConvergeMCP, over the same store and providers), the
/// ``ServerDependencies`` the handlers use, and the Hummingbird application
/// (``buildApplication(configuration:dependencies:logger:onServerRunning:)``: API, pages, `/mcp`, middleware).
/// The store is the caller's: opened before and closed after the service group has run.
public struct ServerRoot: Sendable {
    public let configuration: ServerConfiguration
    /// The stored surveys and their background runs; `nil` when the server has no store (the survey
    /// operations answer 503, the pages show `/analyze` only).
    public let surveys: SurveyService?
    /// The MCP sessions of `/mcp` (streamable HTTP): the tools of `converge mcp` over the store and providers.
    public let mcp: MCPHTTPSessions
    /// The HTTP application (Hummingbird 2), a `Service`.
    public let application: Application<RouterResponder<ConvergeRequestContext>>

    /// - Parameters:
    ///   - configuration: host, port, tokens, limits. Not validated here: `converge serve` calls `validate()`.
    ///   - store: the open survey store, or `nil` for a server without surveys; never closed here.
    ///   - providers: the providers, keys and base URLs (the server's environment and config file).
    ///   - settings: the config file, for its run settings (`timeout`, `concurrency`, `max_attempts`).
    ///   - logger: the HTTP server's logger; each request's logger adds `hb.request.id`.
    ///   - surveysLogger: the survey service's logger.
    ///   - matching: the similarity models the server offers, shared by `POST /v1/analyses`, the pages, stored
    ///     surveys and `/mcp`; default: lexical only.
    ///   - queueing: leave the surveys' work to `converge worker` processes (`converge serve --queue`): new,
    ///     followed-up and resumed surveys and batches are queued in the store's work queue and followed there.
    ///   - onServerRunning: called once listening, with the bound port (useful with port 0).
    /// - Throws: when the generated handlers cannot be registered; ``StoreError/queueNeedsPostgres(location:)``
    ///   for `queueing` on SQLite.
    public init(configuration: ServerConfiguration, store: (any SurveyStore)? = nil,
                providers: ProviderDirectory = ProviderDirectory(), settings: ConvergeConfig = ConvergeConfig(),
                logger: Logger = Logger(label: "converge.server"),
                surveysLogger: Logger = Logger(label: "converge.surveys"),
                queueing: Bool = false, matching: ServerMatching = .lexicalOnly,
                onServerRunning: @escaping @Sendable (_ port: Int) async -> Void = { _ in }) throws {
        // Stored surveys use their own matching (`similarity` of `POST /v1/surveys`), else the default
        // (`similarity(nil)`); a default that cannot be made falls back to lexical.
        let similarity = matching.model
        let analyzer = Analyzer(similarity: (try? similarity(nil)) ?? LexicalSimilarity())
        let queue = try store.flatMap { queueing ? try workQueue($0) : nil }
        let surveys = store.map {
            SurveyService(store: $0, directory: providers, config: settings, analyzer: analyzer,
                          similarity: { try similarity($0) }, logger: surveysLogger, queue: queue)
        }
        // `/mcp` reads no file a client names: its answers and rubrics come inline.
        let mcp = MCPHTTPSessions(context: MCPContext(store: store, directory: providers, config: settings,
                                                      similarity: similarity, readsFiles: false))
        self.configuration = configuration
        self.surveys = surveys
        self.mcp = mcp
        self.application = try buildApplication(configuration: configuration,
                                                dependencies: ServerDependencies(
                                                    analyses: AnalysisService(directory: providers, maxAttempts: settings.maxAttempts,
                                                                              similarity: similarity),
                                                    surveys: surveys, mcp: mcp),
                                                logger: logger,
                                                onServerRunning: onServerRunning)
    }

    /// The services to run, in start order: the HTTP application, the MCP sessions, then the surveys (resuming
    /// what was left running). A graceful shutdown stops them in reverse order: the surveys first (running ones
    /// become `interrupted` and their event streams end), the MCP sessions (their surveys too), then the HTTP
    /// server (requests in flight finish). SIGTERM and SIGINT start the graceful shutdown.
    public func serviceGroup(logger: Logger) -> ServiceGroup {
        var services: [any Service] = [application, MCPSessionsService(sessions: mcp)]
        if let surveys { services.append(surveys) }
        return ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint],
                                                 logger: logger))
    }
}
