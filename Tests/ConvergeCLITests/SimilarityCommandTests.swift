import Foundation
import Testing

/// `converge analyze --similarity` and `converge models install` through the real binary.
@Suite(.serialized) struct SimilarityCommandTests {
    /// The all-MiniLM-L6-v2 that scripts/test installs into the default data directory.
    static let installed: String? = {
        let env = ProcessInfo.processInfo.environment
        let base = env["XDG_DATA_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? (env["HOME"] ?? NSHomeDirectory()) + "/.local/share"
        let dir = base + "/converge/models/all-MiniLM-L6-v2"
        return FileManager.default.fileExists(atPath: dir + "/model.safetensors") ? dir : nil
    }()
    static let available = installed != nil || ProcessInfo.processInfo.environment["CI"] == "true"

    func similarity(_ result: CLI.Result) throws -> String? {
        let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        return (json?["analysis"] as? [String: Any])?["similarity"] as? String
    }

    @Test func withoutTheModelTheDefaultIsLexicalAndEmbeddingIsAnInputError() throws {
        let result = try CLI.run(["analyze", CLI.example, "-f", "json"])
        #expect(result.status == 0)
        #expect(try similarity(result) == "lexical")
        // Offline (CONVERGE_OFFLINE=1 in the isolated environment): one line says so and how to install.
        #expect(result.stderr == "converge: matching is lexical: the embedding model all-MiniLM-L6-v2 is not installed "
                + "and CONVERGE_OFFLINE=1 is set; `converge models install minilm` installs it (about 80 MB) for "
                + "hybrid matching\n", "\(result.stderr)")
        let lexical = try CLI.run(["analyze", CLI.example, "-f", "json", "--similarity", "lexical"])
        #expect(lexical.status == 0)
        #expect(lexical.stderr.isEmpty, "\(lexical.stderr)")
        let missing = try CLI.run(["analyze", CLI.example, "--similarity", "embedding"])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("converge models install minilm"), "\(missing.stderr)")
        let bad = try CLI.run(["analyze", CLI.example, "--similarity", "semantic"])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("lexical, embedding or hybrid"))
        let listed = try CLI.run(["models"])
        #expect(listed.status == 0)
        #expect(listed.stdout.contains("all-MiniLM-L6-v2: not installed"))
    }

    @Test(.enabled(if: available, "SKIPPED LOUDLY: all-MiniLM-L6-v2 is not installed (scripts/test installs it)"))
    func installedModelMakesHybridTheDefault() throws {
        _ = try #require(Self.installed, "all-MiniLM-L6-v2 must be installed")
        let result = try CLI.run(["analyze", CLI.example, "-f", "json"], environment: CLI.installedModelEnvironment)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try similarity(result) == "hybrid")
        let lexical = try CLI.run(["analyze", CLI.example, "-f", "json", "--similarity", "lexical"],
                                  environment: CLI.installedModelEnvironment)
        #expect(try similarity(lexical) == "lexical")
        let embedding = try CLI.run(["analyze", CLI.example, "-f", "json", "--similarity", "embedding"],
                                    environment: CLI.installedModelEnvironment)
        #expect(try similarity(embedding) == "embedding")
    }

    /// `converge models` says whether the ArgKP adapter is merged into the encoder, and names a value of
    /// `CONVERGE_ENCODER_ADAPTER` that is not an adapter (analysis then uses none, with a warning).
    @Test func modelsSaysWhichEncoderAdapterIsMerged() throws {
        var environment = CLI.installedModelEnvironment
        for (value, line) in [(nil, "encoder adapter: none (default;"),
                              ("argkp", "encoder adapter: argkp (all-MiniLM-L6-v2+argkp, argkp-lora.1;"),
                              ("ArgKP-v9", "encoder adapter: none (CONVERGE_ENCODER_ADAPTER=ArgKP-v9 is not an adapter")] {
            environment["CONVERGE_ENCODER_ADAPTER"] = value
            let result = try CLI.run(["models"], environment: environment)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.contains(line), "\(value ?? "unset"): \(result.stdout)")
        }
    }

    /// With no BLAS (`CONVERGE_BLAS=none`: the native kernel, no library looked for) the hybrid report of the
    /// example is the one made with the CBLAS found at run time, key point for key point, with Float32 weight
    /// products (bf16 hands no product to a CBLAS); `converge models` says which kernel the encoder loads, and
    /// with bf16 that no library is opened.
    @Test(.enabled(if: available, "SKIPPED LOUDLY: all-MiniLM-L6-v2 is not installed (scripts/test installs it)"))
    func theNativeKernelMakesTheSameReportAsOpenBLAS() throws {
        _ = try #require(Self.installed, "all-MiniLM-L6-v2 must be installed")
        var native = CLI.installedModelEnvironment
        native["CONVERGE_BLAS"] = "none"
        native["CONVERGE_ENCODER_PRECISION"] = "float32"
        var blas = CLI.installedModelEnvironment
        blas["CONVERGE_BLAS"] = nil
        blas["CONVERGE_ENCODER_PRECISION"] = "float32"
        let nativeModels = try CLI.run(["models"], environment: native)
        #expect(nativeModels.stdout.contains("matrix products: native Swift kernel (CONVERGE_BLAS=none)"),
                "\(nativeModels.stdout)")
        let blasModels = try CLI.run(["models"], environment: blas)
        if ProcessInfo.processInfo.environment["CI"] == "true" {
            // scripts/test installs OpenBLAS's runtime library (libopenblas0), and nothing at build time.
            #expect(blasModels.stdout.contains("matrix products: cblas_sgemm from libopenblas.so.0"), "\(blasModels.stdout)")
        }
        var bf16 = blas
        bf16["CONVERGE_ENCODER_PRECISION"] = "bf16"
        let bf16Models = try CLI.run(["models"], environment: bf16)
        // bf16 where the CPU has AVX512-BF16; elsewhere it means float32, and the CBLAS as above.
        if bf16Models.stdout.contains("encoder precision: bf16") {
            #expect(bf16Models.stdout.contains("matrix products: native Swift kernel (bf16 weight products: no Float32 product"),
                    "\(bf16Models.stdout)")
        } else {
            #expect(bf16Models.stdout.contains("matrix products: \(blasModels.stdout.contains("cblas_sgemm") ? "cblas" : "native")"),
                    "\(bf16Models.stdout)")
        }
        let withNative = try CLI.run(["analyze", CLI.example, "-f", "json"], environment: native)
        let withBLAS = try CLI.run(["analyze", CLI.example, "-f", "json"], environment: blas)
        #expect(withNative.status == 0, "\(withNative.stderr)")
        #expect(withBLAS.status == 0, "\(withBLAS.stderr)")
        #expect(try similarity(withNative) == "hybrid")
        func keyPoints(_ result: CLI.Result) throws -> [[String: Any]] {
            let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
            return try #require(json?["keyPoints"] as? [[String: Any]])
        }
        let a = try keyPoints(withNative), b = try keyPoints(withBLAS)
        #expect(a.count == b.count)
        #expect(a.count > 10)
        for (x, y) in zip(a, b) {
            #expect(NSDictionary(dictionary: x).isEqual(to: y), "\(x) != \(y)")
        }
        #expect(withNative.stdout == withBLAS.stdout)
    }

    /// A CBLAS named in CONVERGE_BLAS that cannot be opened is said on standard error (a fresh user's case:
    /// it was silently replaced by the native kernel, six times slower here).
    @Test(.enabled(if: available, "SKIPPED LOUDLY: all-MiniLM-L6-v2 is not installed (scripts/test installs it)"))
    func aCBLASThatCannotBeOpenedIsSaid() throws {
        _ = try #require(Self.installed, "all-MiniLM-L6-v2 must be installed")
        var env = CLI.installedModelEnvironment
        env["CONVERGE_BLAS"] = "/nonexistent/libcblas.so.3"
        let result = try CLI.run(["analyze", CLI.example, "-f", "json"], environment: env)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("CONVERGE_BLAS=/nonexistent/libcblas.so.3"), "\(result.stderr)")
        #expect(result.stderr.contains("using the native matrix kernel"), "\(result.stderr)")
        let lexical = try CLI.run(["analyze", CLI.example, "-f", "json", "--similarity", "lexical"], environment: env)
        #expect(!lexical.stderr.contains("matrix kernel"), "\(lexical.stderr)")
    }

    @Test(.enabled(if: available, "SKIPPED LOUDLY: all-MiniLM-L6-v2 is not installed (scripts/test installs it)"))
    func installFromAFolderAndDamagedModelIsAClearError() throws {
        let source = try #require(Self.installed, "all-MiniLM-L6-v2 must be installed")
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("converge-cli-models-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: data) }
        var env = CLI.isolatedEnvironment
        env["XDG_DATA_HOME"] = data
        let install = try CLI.run(["models", "install", "minilm", "--from", source], environment: env)
        #expect(install.status == 0, "\(install.stderr)")
        #expect(install.stdout.contains("installed all-MiniLM-L6-v2 at \(data)/converge/models/all-MiniLM-L6-v2"))
        #expect(try CLI.run(["models", "list"], environment: env).stdout.contains("\(data)/converge/models/all-MiniLM-L6-v2"))
        let unknown = try CLI.run(["models", "install", "bert-large", "--from", source], environment: env)
        #expect(unknown.status == 2)
        let nowhere = try CLI.run(["models", "install", "minilm", "--from", "/nonexistent/model"], environment: env)
        #expect(nowhere.status == 2)
        #expect(nowhere.stderr.contains("/nonexistent/model: no such file or folder"))

        // Damage the installed weights: analysis stops with an error naming the file, no crash, no report.
        let weights = data + "/converge/models/all-MiniLM-L6-v2/model.safetensors"
        let bytes = try Data(contentsOf: URL(fileURLWithPath: weights))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: weights))
        let damaged = try CLI.run(["analyze", CLI.example, "-f", "json"], environment: env)
        #expect(damaged.status == 2)
        #expect(damaged.stderr.contains("model.safetensors"), "\(damaged.stderr)")
        #expect(damaged.stdout.isEmpty)
    }

    /// A model folder that exists but lacks a file is an input error for the default analysis (not a silent
    /// fall-back to lexical), and `models` calls it damaged.
    @Test func incompleteInstalledModelIsAnErrorAndListedAsDamaged() throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("converge-cli-partial-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: data) }
        let folder = data + "/converge/models/all-MiniLM-L6-v2"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try Data("{}".utf8).write(to: URL(fileURLWithPath: folder + "/config.json"))
        try Data("{}".utf8).write(to: URL(fileURLWithPath: folder + "/model.safetensors"))
        var env = CLI.isolatedEnvironment
        env["XDG_DATA_HOME"] = data
        let result = try CLI.run(["analyze", CLI.example, "-f", "json"], environment: env)
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains("\(folder)/tokenizer.json: missing"), "\(result.stderr)")
        #expect(result.stderr.contains("converge models install minilm"))
        #expect(result.stderr.contains("--similarity lexical"))
        #expect(!result.stderr.contains("--similarity hybrid:"))
        let listed = try CLI.run(["models"], environment: env)
        #expect(listed.status == 0)
        #expect(listed.stdout.contains("all-MiniLM-L6-v2: damaged: tokenizer.json missing"), "\(listed.stdout)")
        let lexical = try CLI.run(["analyze", CLI.example, "-f", "json", "--similarity", "lexical"], environment: env)
        #expect(lexical.status == 0)
    }

    /// A data directory that is not a folder, and an unknown model name, are input errors (exit 2) with a
    /// plain message.
    @Test func installIntoANonFolderOrOfAnUnknownModelIsAClearInputError() throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("converge-cli-notdir-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: data) }
        try Data("not a folder".utf8).write(to: URL(fileURLWithPath: data))
        let source = FileManager.default.temporaryDirectory.appendingPathComponent("converge-cli-src-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: source) }
        var env = CLI.isolatedEnvironment
        env["XDG_DATA_HOME"] = data
        let result = try CLI.run(["models", "install", "minilm", "--from", source], environment: env)
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains("converge: error: \(data): cannot install the model here (not a folder)"), "\(result.stderr)")
        #expect(!result.stderr.contains("NSCocoaErrorDomain"))
        let unknown = try CLI.run(["models", "install", "bert"], environment: env)
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("converge: error: unknown model `bert` (known: minilm)"), "\(unknown.stderr)")
    }
}
