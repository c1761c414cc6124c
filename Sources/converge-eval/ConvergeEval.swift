import ArgumentParser
import Foundation

/// `converge-eval`: benchmarks and quality evaluations for developers.
@main
struct ConvergeEval: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "converge-eval",
        abstract: "Benchmarks and quality evaluations for Converge developers.",
        subcommands: [Bench.self, Consolidation.self, KPAPredict.self, KPAScore.self, KPATrain.self, Soak.self]
    )

    /// Exit statuses: 0 success, 2 bad input (`EvalError`: `converge-eval: error: ...`, no usage dump) or
    /// bad usage (ArgumentParser's 64 is mapped to 2).
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as EvalError {
            FileHandle.standardError.write(Data("converge-eval: error: \(error)\n".utf8))
            Foundation.exit(2)
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}

/// `converge-eval bench ...`: speed and memory, reported against a baseline measured in the same run.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Speed and memory benchmarks.",
        subcommands: [BenchAnalyze.self, BenchAsk.self, BenchFanout.self, BenchEncode.self, BenchBatch.self]
    )
}
