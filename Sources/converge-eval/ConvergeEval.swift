import ArgumentParser

/// `converge-eval`: benchmarks and quality evaluations for developers.
@main
struct ConvergeEval: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "converge-eval",
        abstract: "Benchmarks and quality evaluations for Converge developers.",
        subcommands: [Bench.self, KPAPredict.self, KPAScore.self, KPATrain.self]
    )
}

/// `converge-eval bench ...`: speed and memory, reported against a baseline measured in the same run.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Speed and memory benchmarks.",
        subcommands: [BenchAnalyze.self, BenchFanout.self, BenchEncode.self]
    )
}
