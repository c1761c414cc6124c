import ArgumentParser
import ConvergeCore
import ConvergeStore
import Foundation

/// The `converge` command: one root command, one subcommand per file.
@main
struct Converge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "converge",
        abstract: "Ask a panel of AI models one question and see, point by point, where their answers converge.",
        version: ConvergeVersion.current,
        subcommands: [Analyze.self, Ask.self, Batch.self, Batches.self, Surveys.self, FollowUp.self, Reanalyze.self,
                      RubricCommand.self, Models.self, Serve.self, Worker.self, Mcp.self]
    )

    /// Exit statuses: 0 success, 2 usage or input error (ArgumentParser's 64 is mapped to 2; an unknown
    /// survey id too), 5 database error (unreachable, refused, damaged, read-only).
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as InputError {
            FileHandle.standardError.write(Data("converge: error: \(error)\n".utf8))
            Foundation.exit(2)
        } catch let error as StoreError {
            FileHandle.standardError.write(Data("converge: error: \(error)\n".utf8))
            switch error {
            case .notFound, .batchNotFound, .ambiguous, .invalidURL, .queueNeedsPostgres: Foundation.exit(2)
            default: Foundation.exit(5)
            }
        } catch let code as ExitCode {
            Foundation.exit(code.rawValue)
        } catch {
            let code = exitCode(for: error)
            let message = fullMessage(for: error)
            if code == .success {
                print(message)
                Foundation.exit(0)
            }
            FileHandle.standardError.write(Data("\(message)\n".utf8))
            Foundation.exit(code == .validationFailure ? 2 : code.rawValue)
        }
    }
}
