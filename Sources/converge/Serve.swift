import ArgumentParser
import ConvergeCore
import ConvergeEmbeddings
import ConvergeProviders
import ConvergeServer
import ConvergeStore
import Foundation
import NIOCore
import Logging
import ServiceLifecycle

/// `converge serve`: the HTTP API and pages (ConvergeServer) until SIGTERM or SIGINT, then a graceful shutdown
/// (requests in flight finish) and exit 0.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the HTTP API (/v1/analyses, /v1/surveys, /healthz, /metrics, /openapi.yaml) and the web pages.",
        discussion: """
            Binds to 127.0.0.1 by default. Any other address needs API tokens in \(APITokens.environmentVariable) \
            (comma-separated, each at least \(APITokens.minimumLength) characters): with tokens set, the API and \
            /metrics need "Authorization: Bearer TOKEN" and the pages a sign-in at /login. Once listening it \
            prints "converge: serving on http://HOST:PORT" on standard error. SIGTERM or SIGINT stops it \
            gracefully (exit 0).

            Surveys (POST /v1/surveys ...) are kept in the database given by --db (default: \
            CONVERGE_DATABASE_URL, then $XDG_DATA_HOME/converge/converge.sqlite), opened once at start. Provider \
            keys and base URLs come from the server's environment (and --config), never from requests. On \
            SIGTERM running surveys are cancelled and left interrupted; the next start resumes every survey left \
            running or interrupted, without asking stored answers again. With --queue (PostgreSQL) the server \
            asks nothing itself: surveys and batches are queued for `converge worker` processes and followed in the \
            database, and analysed here when their threads are done.
            """
    )

    @Option(help: "Address to bind (an IPv4 or IPv6 address, or localhost).")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on; 0 picks a free port.")
    var port = 8080

    @Option(name: .customLong("max-body-bytes"), help: "Largest request body accepted, in bytes (larger: 413).")
    var maxBodyBytes = ServerConfiguration.defaultMaxBodyBytes

    @OptionGroup var storage: StoreOptions

    @Option(help: "Configuration file (providers and base URLs; keys always come from the environment).")
    var config: String?

    @Flag(help: "Leave the work to `converge worker` processes (PostgreSQL): surveys and batches are queued and followed, not asked here.")
    var queue = false

    @Option(name: .customLong("log-level"), help: "Log level: trace, debug, info, notice, warning, error or critical.")
    var logLevel = "info"

    func run() async throws {
        guard let level = Logger.Level(rawValue: logLevel.lowercased()) else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
        var bindHost = host
        if bindHost.hasPrefix("[") && bindHost.hasSuffix("]") { bindHost = String(bindHost.dropFirst().dropLast()) }
        let tokens = try APITokens(parsing: ProcessInfo.processInfo.environment[APITokens.environmentVariable])
        let configuration = ServerConfiguration(host: bindHost, port: port, tokens: tokens, maxBodyBytes: maxBodyBytes,
                                                version: Converge.configuration.version)
        try configuration.validate()

        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        var logger = Logger(label: "converge.server")
        logger.logLevel = level
        let settings = try ConvergeConfig.load(explicitPath: config)
        let url = try DatabaseURL.resolve(flag: storage.db)
        if queue, case .sqlite = url { throw StoreError.queueNeedsPostgres(location: url.description) }
        let store = try await openStore(url)
        // The embedding model is loaded once, here, and shared by every analysis (never fetched by the server).
        let matchings = LoadedMatchings.load()
        if let why = matchings.unavailable {
            // A damaged install is a warning: the default matching is lexical until it is mended.
            logger.log(level: matchings.damaged ? .warning : .notice, "matching is lexical only: \(why)")
        } else {
            logger.info("embedding model loaded: hybrid matching is the default",
                        metadata: ["kernel": "\(MatrixKernel.forEncoder(precision: .shared).backend)",
                                   "precision": "\(EncoderPrecision.shared)"])
        }
        do {
            let server = try ServerRoot(configuration: configuration, store: store,
                                        providers: ProviderDirectory(config: settings), settings: settings,
                                        logger: logger, queueing: queue, matching: ServerMatching { name in
                                            do { return try matchings.model(name) } catch {
                                                throw InputError(field: "similarity", "\(error)")
                                            }
                                        }) { port in
                FileHandle.standardError.write(Data("converge: serving on \(configuration.url(port: port))\n".utf8))
            }
            try await server.serviceGroup(logger: logger).run()
        } catch let error as IOError {
            await store.close()
            // Binding failed: say which address and why, as an input error (exit 2), not a NIO trace.
            let reason = String(cString: strerror(error.errnoCode))
            throw InputError(field: "--port", "cannot listen on \(configuration.url(port: port)): \(reason.lowercased())"
                + (error.errnoCode == EADDRINUSE ? " (another program uses the port; pick another with --port, or 0 for any free one)" : ""))
        } catch {
            await store.close()
            throw error
        }
        await store.close()
    }
}
