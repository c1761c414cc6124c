import ConvergeAnalysis
import ConvergeCore
import ConvergeProviders
import ConvergeStore
import Foundation
import Logging
import MCP

/// What the MCP tools work with, the same as the command line's: the survey store, the providers and keys
/// (the environment and converge.yaml), the config file's run settings, and how statements are matched.
public struct MCPContext: Sendable {
    /// The stored surveys; `nil` leaves only `analyze` and `models` (the survey tools answer a tool error).
    public var store: (any SurveyStore)?
    public var directory: ProviderDirectory
    public var config: ConvergeConfig
    /// The similarity model for `lexical`, `embedding`, `hybrid` or `nil` (the front end's default); throws
    /// `InputError` for a model that is missing or damaged, as `--similarity` does.
    public var similarity: @Sendable (_ name: String?) throws -> any SimilarityModel
    /// Relative paths in tool arguments (answer folders, rubrics) are read from here.
    public var directoryPath: String
    /// Whether tools may read files named in their arguments (`paths`, `rubric`): `converge mcp` (the user's
    /// own files), not the HTTP endpoint, whose clients give text inline.
    public var readsFiles: Bool
    public var logger: Logger
    /// Surveys asked with `wait: false` that still run (shared by every copy of the context).
    public let background = BackgroundSurveys()

    public init(store: (any SurveyStore)?, directory: ProviderDirectory, config: ConvergeConfig,
                similarity: @escaping @Sendable (_ name: String?) throws -> any SimilarityModel = MCPContext.lexicalOnly,
                directoryPath: String = FileManager.default.currentDirectoryPath, readsFiles: Bool = true,
                logger: Logger = Logger(label: "converge.mcp")) {
        self.store = store
        self.directory = directory
        self.config = config
        self.similarity = similarity
        self.directoryPath = directoryPath
        self.readsFiles = readsFiles
        self.logger = logger
    }

    /// Lexical matching only (a front end without the embedding model, such as the server).
    public static let lexicalOnly: @Sendable (String?) throws -> any SimilarityModel = { name in
        switch name {
        case nil, "lexical": return LexicalSimilarity()
        default: throw InputError(field: "similarity", "`\(name!)` needs the embedding model, which this server does not load; use lexical")
        }
    }
}

/// Converge as a Model Context Protocol server (the official Swift SDK's `Server`): the tools of
/// ``ToolCatalog``, the stored reports as resources (``ReportResources``), and the prompt "ask my panel about X"
/// (``PanelPrompt``). A transport is the caller's: `converge mcp` starts it on stdio, `converge serve` on
/// streamable HTTP at `/mcp` (``MCPHTTPSessions``).
public enum ConvergeMCPServer {
    public static let name = "converge"

    /// A server with every handler registered, not started.
    public static func make(_ context: MCPContext) async -> Server {
        let server = Server(
            name: name, version: ConvergeVersion.current, title: "Converge",
            instructions: """
                Converge puts one question to a panel of AI models and shows, point by point, where their answers \
                converge, split, and what they all leave out, each point linked to the exact words that support it. \
                `ask` returns the survey id in its first progress notification; `survey_get` fetches the report later.
                """,
            capabilities: .init(prompts: .init(listChanged: false), resources: .init(subscribe: false, listChanged: false),
                                tools: .init(listChanged: false)))
        let tools = ConvergeTools(context: context, tasks: context.background)
        await server.withMethodHandler(ListTools.self) { _ in .init(tools: ToolCatalog.tools) }
        await server.withMethodHandler(CallTool.self) { [weak server] params in
            try await tools.call(params, progress: ProgressReporter(server: server, token: params._meta?.progressToken))
        }
        let resources = ReportResources(context: context)
        await server.withMethodHandler(ListResources.self) { params in try await resources.list(cursor: params.cursor) }
        await server.withMethodHandler(ListResourceTemplates.self) { _ in .init(templates: ReportResources.templates) }
        await server.withMethodHandler(ReadResource.self) { params in try await resources.read(params.uri) }
        await server.withMethodHandler(ListPrompts.self) { _ in .init(prompts: [PanelPrompt.prompt]) }
        await server.withMethodHandler(GetPrompt.self) { params in try PanelPrompt.get(params, context: context) }
        return server
    }
}
