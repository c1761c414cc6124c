import ArgumentParser
import ConvergeCore
import ConvergeJudge
import ConvergeProviders
import Foundation

/// `converge rubric`: rubrics without writing them by hand.
struct RubricCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rubric",
        abstract: "Draft rubrics with a model.",
        subcommands: [RubricDraft.self]
    )
}

/// `converge rubric draft PROMPT -m MODEL`: a model writes a rubric from the prompt alone.
struct RubricDraft: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "draft",
        abstract: "Have a model write a rubric from the prompt alone, before any answer is seen.",
        discussion: """
            The reply must be rubric YAML that `analyze --rubric` accepts; if it is not, the model is asked once \
            more with the error. The rubric is written in canonical form (title, categories, items with id and \
            text), to --output or standard output, and only when valid: nothing is ever written half. Exit \
            status: 0 written; 2 usage or configuration error (bad spec, missing key); 3 the model failed or \
            replied with no valid rubric twice.
            """
    )

    @Argument(help: "The prompt the rubric is for.")
    var prompt: String

    @Option(name: [.customShort("m"), .customLong("model")], help: "The model that drafts it (provider/model spec).")
    var model: String

    @Option(name: [.customShort("o"), .customLong("output")], help: "Write the rubric YAML to this file (default: standard output).")
    var output: String?

    @Option(help: "Per-request timeout in seconds (default 300).")
    var timeout: Double?

    @Option(help: "Configuration file (default: ./converge.yaml, then $XDG_CONFIG_HOME/converge/converge.yaml).")
    var config: String?

    func validate() throws {
        if prompt.trimmingWhitespace.isEmpty { throw ValidationError("the prompt is empty") }
        if let timeout, !(timeout > 0 && timeout <= 86_400) {
            throw ValidationError("--timeout must be a positive number of seconds, at most 86400")
        }
    }

    func run() async throws {
        let spec: ModelSpec
        do {
            spec = try ModelSpec(parsing: model)
        } catch {
            throw InputError(field: "--model", error.description)
        }
        let configuration = try ConvergeConfig.load(explicitPath: config)
        var client: ModelClient
        do {
            client = try ModelClient(resolving: spec, directory: ProviderDirectory(config: configuration),
                                     maxAttempts: configuration.maxAttempts)
        } catch {
            throw InputError(field: "--model", error.description)
        }
        if let output { try AtomicFile.checkWritable(output) }
        if let timeout { client.timeout = .milliseconds(Int((timeout * 1000).rounded())) }
        let drafted: (rubric: Rubric, attempts: Int)
        do {
            drafted = try await RubricDrafter(client: client).draft(prompt: prompt)
        } catch {
            FileHandle.standardError.write(Data("converge: no rubric drafted: \(error)\n".utf8))
            throw ExitCode(3)
        }
        let yaml = try drafted.rubric.yamlText()
        if let output {
            try AtomicFile.write(yaml, to: output)
            FileHandle.standardError.write(Data("converge: wrote \(drafted.rubric.items.count) rubric items to \(output)\n".utf8))
        } else {
            print(yaml, terminator: "")
        }
    }
}
