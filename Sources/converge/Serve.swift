import ArgumentParser
import ConvergeCore
import ConvergeServer
import Foundation
import Logging
import ServiceLifecycle

/// `converge serve`: the HTTP API and pages (ConvergeServer) until SIGTERM or SIGINT, then a graceful shutdown
/// (requests in flight finish) and exit 0.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the HTTP API (POST /v1/analyses, /healthz, /metrics, /openapi.yaml) and the web pages.",
        discussion: """
            Binds to 127.0.0.1 by default. Any other address needs API tokens in \(APITokens.environmentVariable) \
            (comma-separated, each at least \(APITokens.minimumLength) characters): with tokens set, the API and \
            /metrics need "Authorization: Bearer TOKEN" and the pages a sign-in at /login. Once listening it \
            prints "converge: serving on http://HOST:PORT" on standard error. SIGTERM or SIGINT stops it \
            gracefully (exit 0).
            """
    )

    @Option(help: "Address to bind (an IPv4 or IPv6 address, or localhost).")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on; 0 picks a free port.")
    var port = 8080

    @Option(name: .customLong("max-body-bytes"), help: "Largest request body accepted, in bytes (larger: 413).")
    var maxBodyBytes = ServerConfiguration.defaultMaxBodyBytes

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
        let app = try buildApplication(configuration: configuration, logger: logger) { port in
            FileHandle.standardError.write(Data("converge: serving on \(configuration.url(port: port))\n".utf8))
        }
        let group = ServiceGroup(configuration: .init(
            services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
