import ConvergeCore
import ConvergeStore
import Foundation
import MCP

/// Carries out tool calls. Every failure becomes a tool error (``ToolResult/error(_:)``) with the CLI's message
/// naming the argument; nothing a client sends ends the server.
struct ConvergeTools: Sendable {
    let context: MCPContext
    /// Surveys asked with `wait: false`, still running.
    let tasks: BackgroundSurveys

    /// - Throws: only `CancellationError`, when the client cancelled the call (the protocol sends no answer then).
    func call(_ params: CallTool.Parameters, progress: ProgressReporter) async throws -> CallTool.Result {
        do {
            switch params.name {
            case ToolCatalog.analyze: return try analyze(params.arguments)
            case ToolCatalog.ask: return try await ask(params.arguments, progress: progress)
            case ToolCatalog.surveyGet: return try await surveyGet(params.arguments)
            case ToolCatalog.surveyList: return try await surveyList(params.arguments)
            case ToolCatalog.followUp: return try await followUp(params.arguments, progress: progress)
            case ToolCatalog.reanalyze: return try await reanalyze(params.arguments)
            case ToolCatalog.models: return try models(params.arguments)
            default:
                throw InputError(field: "name", "unknown tool `\(params.name)` (known: \(ToolCatalog.names.sorted().joined(separator: ", ")))")
            }
        } catch let error as InputError {
            return ToolResult.error(error)
        } catch let error as StoreError {
            switch error {
            case .notFound, .ambiguous: return ToolResult.error(InputError(field: "id", error.description))
            default: return ToolResult.error(InputError(error.description))
            }
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            context.logger.error("tool \(params.name) failed: \(String(describing: error))")
            return ToolResult.error(InputError("\(params.name) failed: \(String(describing: error))"))
        }
    }

    /// The store, or a tool error saying there is none.
    func store() throws -> any SurveyStore {
        guard let store = context.store else { throw InputError("this server keeps no surveys (it has no database)") }
        return store
    }

    /// A path argument resolved against the context's directory.
    func path(_ path: String) -> String {
        path.hasPrefix("/") ? path : (context.directoryPath as NSString).appendingPathComponent(path)
    }
}
