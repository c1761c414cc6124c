import ArgumentParser
import ConvergeCore
import ConvergeMCP
import ConvergeProviders
import Foundation
import Logging
import MCP

/// `converge mcp`: Converge as a Model Context Protocol server on standard input and output, for an agent or
/// assistant to start (Claude Desktop, Claude Code, Cursor, ...). Same config file, store, keys and limits as the
/// other commands; nothing but protocol messages goes to standard output.
struct Mcp: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mcp",
        abstract: "Serve Converge's tools to an MCP client over standard input and output.",
        discussion: """
            Tools: analyze, ask, survey_get, survey_list, follow_up, survey_resume, reanalyze, models; resources: \
            converge://surveys/ID/report.json and report.md; prompt: ask_panel. Keys come from the environment, \
            as for ask. Diagnostics go to standard error.
            """
    )

    @Option(help: "Configuration file (default: ./converge.yaml, then $XDG_CONFIG_HOME/converge/converge.yaml).")
    var config: String?

    @OptionGroup var storage: StoreOptions

    func run() async throws {
        let configuration = try ConvergeConfig.load(explicitPath: config)
        var logger = Logger(label: "converge.mcp") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = .warning
        try await storage.withStore(creating: true) { store in
            let context = MCPContext(store: store, directory: ProviderDirectory(config: configuration),
                                     config: configuration, similarity: { name in
                                         try SimilarityOptions.parse(name.map { ["--similarity", $0] } ?? []).model()
                                     }, logger: logger)
            let server = await ConvergeMCPServer.make(context)
            // SIGTERM (how clients stop their servers) and SIGINT stop it as the end of input does.
            let signals = [SIGTERM, SIGINT].map { number in
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                source.setEventHandler { Task { await server.stop() } }
                source.resume()
                return source
            }
            try await server.start(transport: StdioLineTransport(logger: logger))
            await server.waitUntilCompleted()
            signals.forEach { $0.cancel() }
            // The client has gone: surveys it left running stop (interrupted, resumable) before the store closes.
            await context.background.cancelAll()
            await context.background.interruptAsking(in: store)
        }
    }
}
