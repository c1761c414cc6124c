import ArgumentParser
import ConvergeAnalysis
import ConvergeCore
import ConvergeJudge
import ConvergeProviders
import Foundation

/// `--judge MODEL_SPEC`: a judge model's verified claims added to the report (ConvergeJudge).
struct JudgeOptions: ParsableArguments {
    @Option(name: .customLong("judge"), help: ArgumentHelp("""
        A judge model (provider/model spec) that compares the answers; every claim it makes is checked \
        against them and kept only when verified.
        """, valueName: "MODEL_SPEC"))
    var spec: String?

    @Option(name: .customLong("judge-timeout"), help: "The judge's per-request timeout in seconds (default 300).")
    var timeout: Double?

    @Option(name: .customLong("judge-max-tokens"), help: "Most tokens the judge's reply may have.")
    var maxTokens: Int?

    func validate() throws {
        if let timeout, !(timeout > 0 && timeout <= 86_400) {
            throw ValidationError("--judge-timeout must be a positive number of seconds, at most 86400")
        }
        if let maxTokens, maxTokens < 1 { throw ValidationError("--judge-max-tokens must be at least 1") }
        if spec == nil && (timeout != nil || maxTokens != nil) {
            throw ValidationError("--judge-timeout and --judge-max-tokens need --judge")
        }
    }

    /// The judge, with its provider resolved from `config` (the `--config` file, else the default places: key
    /// present, base URL valid), or `nil` without `--judge`.
    /// - Throws: `InputError` naming `--judge` for a bad spec, an unknown provider or a missing key.
    func judge(config: String?) throws -> Judge? {
        guard let spec else { return nil }
        let parsed: ModelSpec
        do {
            parsed = try ModelSpec(parsing: spec)
        } catch {
            throw InputError(field: "--judge", error.description)
        }
        let configuration = try ConvergeConfig.load(explicitPath: config)
        var client: ModelClient
        do {
            client = try ModelClient(resolving: parsed, directory: ProviderDirectory(config: configuration),
                                     maxAttempts: configuration.maxAttempts)
        } catch {
            throw InputError(field: "--judge", error.description)
        }
        if let timeout { client.timeout = .milliseconds(Int((timeout * 1000).rounded())) }
        client.parameters.maxTokens = maxTokens
        return Judge(client: client)
    }
}

extension JudgeOptions {
    /// `judge` (a survey plan's) with `--judge-timeout` and `--judge-max-tokens` applied.
    func tuned(_ judge: Judge?) -> Judge? {
        guard var judge else { return nil }
        if let timeout { judge.client.timeout = .milliseconds(Int((timeout * 1000).rounded())) }
        if let maxTokens { judge.client.parameters.maxTokens = maxTokens }
        return judge
    }
}

extension Judge {
    /// `report` judged, with one line on standard error when the judge failed (the report stays whole).
    func judgeReporting(_ report: Report, input: AnalysisInput, analyzer: Analyzer) async -> Report {
        let judged = await judge(report, input: input, analyzer: analyzer)
        if let section = judged.judge {
            if section.status == .failed {
                let reason = section.error ?? "no reason given"
                FileHandle.standardError.write(Data("converge: the judge failed: \(reason); the report is the matcher's alone\n".utf8))
            }
            if section.fromCache {
                FileHandle.standardError.write(Data("converge: the judge's reply came from the response cache (--no-cache asks again)\n".utf8))
            }
            if section.status != .failed && !section.dropped.isEmpty {
                let line = "converge: the judge's claims: \(section.dropped.count) dropped as unverified (listed in the report)\n"
                FileHandle.standardError.write(Data(line.utf8))
            }
        }
        return judged
    }
}
