import ConvergeCore
import ConvergeRunner
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
            case ToolCatalog.surveyResume: return try await surveyResume(params.arguments, progress: progress)
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
    /// - Throws: `InputError` naming `field` when the context reads no files (the HTTP endpoint).
    func path(_ path: String, field: String) throws -> String {
        guard context.readsFiles else {
            throw InputError(field: field, "this server reads no files; give the text inline (`answers`, `rubric_yaml`)")
        }
        return path.hasPrefix("/") ? path : (context.directoryPath as NSString).appendingPathComponent(path)
    }

    /// The rubric of `rubric` (a YAML file) or `rubric_yaml` (its text), as given; `nil` without either.
    func rubricSource(_ args: ToolArguments) throws -> SurveySpec.RubricSource? {
        let file = try args.string("rubric"), yaml = try args.string("rubric_yaml")
        if file != nil && yaml != nil { throw InputError(field: "rubric_yaml", "`rubric` and `rubric_yaml` cannot be used together") }
        if let file {
            let resolved = try path(file, field: "rubric")
            return SurveySpec.RubricSource(file: resolved, yaml: try SurveyFolder.readText(resolved))
        }
        return yaml.map { SurveySpec.RubricSource(file: "rubric_yaml", yaml: $0) }
    }

    /// The rubric of `rubric` or `rubric_yaml`, parsed (its errors name the file or `rubric_yaml`, line and field).
    func rubric(_ args: ToolArguments) throws -> Rubric? {
        try rubricSource(args).map { try Rubric(yaml: $0.yaml, file: $0.file) }
    }
}
