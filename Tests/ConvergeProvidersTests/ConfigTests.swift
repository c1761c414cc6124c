import ConvergeCore
import ConvergeProviders
import Foundation
import Testing

@Suite struct ModelSpecTests {
    @Test func splitsAtTheFirstSlash() throws {
        let spec = try ModelSpec(parsing: "openrouter/meta-llama/llama-3.3-70b-instruct")
        #expect(spec.provider == "openrouter")
        #expect(spec.model == "meta-llama/llama-3.3-70b-instruct")
        #expect(spec.description == "openrouter/meta-llama/llama-3.3-70b-instruct")
        #expect(try ModelSpec(parsing: "OpenAI/gpt-4o").provider == "openai")
        #expect(try ModelSpec(parsing: "ollama/llama3.2:8b").model == "llama3.2:8b")
    }

    @Test(arguments: ["gpt-4o", "/gpt-4o", "openai/", "", "openai/gpt 4o"])
    func rejectsMalformedSpecs(_ text: String) {
        #expect(throws: ProviderError.self) { try ModelSpec(parsing: text) }
    }

    @Test func derivesUniquePanelistIDs() throws {
        let specs = try ["openai/gpt-4o", "openrouter/openai/GPT-4o", "anthropic/claude-sonnet-4-5", "openai/gpt-4o"]
            .map { try ModelSpec(parsing: $0) }
        let panelists = ModelSpec.panelists(for: specs)
        #expect(panelists.map(\.id) == ["gpt-4o", "gpt-4o-2", "claude-sonnet-4-5", "gpt-4o-3"])
        #expect(panelists[1].model == "openrouter/openai/GPT-4o")
    }
}

@Suite struct ConfigTests {
    let yaml = """
    concurrency: 6
    timeout: 45
    max_attempts: 3
    providers:
      openai:
        max_concurrency: 2
      local:
        kind: openai
        base_url: http://127.0.0.1:8080/v1
        api_key_env: LOCAL_KEY
        max_concurrency: 1
      keyless:
        kind: openai-compatible
        base_url: http://127.0.0.1:9000/v1
      claude-proxy:
        kind: anthropic
        base_url: http://127.0.0.1:9001
        api_key_env: PROXY_KEY
    panels:
      default: [openai/gpt-4o, anthropic/claude-sonnet-4-5]
      mixed:
        - local/smollm2
        - {model: ollama/llama3.2, id: llama, label: Llama 3.2}
    report:
      format: md
    """

    @Test func parsesProvidersPanelsAndLimits() throws {
        let config = try ConvergeConfig(yaml: yaml)
        #expect(config.concurrency == 6)
        #expect(config.timeoutSeconds == 45)
        #expect(config.maxAttempts == 3)
        #expect(config.providers["openai"]?.maxConcurrency == 2)
        #expect(config.providers["local"]?.kind == .openAI)
        #expect(config.providers["claude-proxy"]?.kind == .anthropic)
        let mixed = try config.panel(named: "mixed")
        #expect(mixed.map(\.spec.description) == ["local/smollm2", "ollama/llama3.2"])
        let panelists = PanelEntry.panelists(for: mixed)
        #expect(panelists.map(\.id) == ["smollm2", "llama"])
        #expect(panelists.map(\.label) == ["local/smollm2", "Llama 3.2"])
        #expect(try config.panel(named: "default").count == 2)
    }

    @Test func anUnknownPanelNamesTheKnownOnes() throws {
        let config = try ConvergeConfig(yaml: yaml)
        let error = try #require(throws: InputError.self) { try config.panel(named: "nope") }
        #expect(error.description.contains("default, mixed"))
    }

    @Test(arguments: [
        ("providers:\n  x:\n    base_url: http://h/v1\n", "needs `kind`"),
        ("providers:\n  x:\n    kind: openai\n", "needs `base_url`"),
        ("providers:\n  x:\n    kind: cohere\n    base_url: http://h\n", "unknown kind"),
        ("providers:\n  x:\n    kind: openai\n    base_url: ftp://h\n", "http:// or https://"),
        ("providers:\n  openai:\n    max_concurrency: 0\n", "positive integer"),
        ("providers:\n  openai:\n    maxconcurrency: 2\n", "unknown field"),
        ("panels:\n  p: [gpt-4o]\n", "expected provider/model"),
        ("panels:\n  p: []\n", "non-empty list"),
        ("panels:\n  p: [{model: openai/a, temperature: 2.5}]\n", "`temperature` must be a number from 0 to 2"),
        ("panels:\n  p: [{model: openai/a, temperature: -1}]\n", "panels.p[0].temperature"),
        ("providers: [a, b]\n", "mapping"),
        ("concurrency: [\n", "YAML error"),
    ])
    func reportsBadConfigWithTheField(_ text: String, _ expected: String) {
        do {
            _ = try ConvergeConfig(yaml: text, file: "conf.yaml")
            Issue.record("expected an error for \(text)")
        } catch let error as InputError {
            #expect(error.description.contains(expected), "\(error.description)")
            #expect(error.file == "conf.yaml")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func environmentOverridesTheFileAndKeysComeFromTheEnvironment() throws {
        let config = try ConvergeConfig(yaml: yaml)
        let directory = ProviderDirectory(config: config, environment: [
            "OPENAI_API_KEY": "sk-test-openai-0123456789",
            "OPENAI_BASE_URL": "http://127.0.0.1:1234/v1/",
            "LOCAL_KEY": "local-secret-key",
            "OLLAMA_HOST": "0.0.0.0:11500",
        ])
        let openai = try directory.endpoint(for: "openai")
        #expect(openai.baseURL == "http://127.0.0.1:1234/v1")
        #expect(openai.apiKey?.value == "sk-test-openai-0123456789")
        #expect(openai.maxConcurrency == 2)
        let local = try directory.endpoint(for: "local")
        #expect(local.baseURL == "http://127.0.0.1:8080/v1")
        #expect(local.maxConcurrency == 1)
        #expect(try directory.endpoint(for: "ollama").baseURL == "http://127.0.0.1:11500/v1")
        #expect(try directory.endpoint(for: "keyless").apiKey == nil)
        #expect(throws: ProviderError.missingAPIKey(provider: "anthropic", variable: "ANTHROPIC_API_KEY")) {
            try directory.endpoint(for: "anthropic")
        }
    }

    @Test(arguments: [
        ("openai/gpt-4o", "OPENAI_API_KEY"), ("anthropic/claude-sonnet-4-5", "ANTHROPIC_API_KEY"),
        ("gemini/gemini-2.5-pro", "GEMINI_API_KEY"), ("openrouter/meta-llama/llama-3.3-70b-instruct", "OPENROUTER_API_KEY"),
        ("local/smollm2", "LOCAL_KEY"), ("claude-proxy/claude", "PROXY_KEY"),
    ])
    func aMissingKeyNamesItsVariable(_ spec: String, _ variable: String) throws {
        let directory = ProviderDirectory(config: try ConvergeConfig(yaml: yaml), environment: [variable: "  "])
        let parsed = try ModelSpec(parsing: spec)
        let error = try #require(throws: ProviderError.self) { try directory.endpoint(for: parsed.provider) }
        #expect(error == .missingAPIKey(provider: parsed.provider, variable: variable))
        #expect(error.description.contains(variable))
    }

    @Test func localProvidersNeedNoKey() throws {
        let directory = ProviderDirectory(environment: [:])
        for name in ["ollama", "vllm", "llamacpp", "lmstudio"] {
            #expect(try directory.endpoint(for: name).apiKey == nil)
        }
        let error = try #require(throws: ProviderError.self) { try directory.endpoint(for: "mistral") }
        #expect(error.description.contains("unknown provider 'mistral'"))
    }

    @Test func keysNeverPrint() throws {
        let secret = "sk-live-ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        let endpoint = try ProviderDirectory(environment: ["OPENAI_API_KEY": secret]).endpoint(for: "openai")
        for text in [String(describing: endpoint), String(reflecting: endpoint), "\(endpoint.apiKey!)",
                     String(reflecting: endpoint.apiKey!), String(describing: Mirror(reflecting: endpoint).children.map(\.value))] {
            #expect(!text.contains(secret))
            #expect(!text.contains("ABCDEFGH"))
        }
    }

    @Test func locatesTheConfigInOrder() throws {
        let fm = FileManager.default
        let root = fm.temporaryDirectory.appendingPathComponent("converge-config-\(UUID().uuidString)")
        defer { try? fm.removeItem(at: root) }
        let cwd = root.appendingPathComponent("work")
        let xdg = root.appendingPathComponent("xdg")
        try fm.createDirectory(at: cwd, withIntermediateDirectories: true)
        try fm.createDirectory(at: xdg.appendingPathComponent("converge"), withIntermediateDirectories: true)
        let xdgFile = xdg.appendingPathComponent("converge/converge.yaml").path
        let localFile = cwd.appendingPathComponent("converge.yaml").path
        let flagFile = root.appendingPathComponent("flag.yaml").path
        let envFile = root.appendingPathComponent("env.yaml").path
        try "concurrency: 1\n".write(toFile: xdgFile, atomically: true, encoding: .utf8)
        let env = ["XDG_CONFIG_HOME": xdg.path, "HOME": root.path]
        #expect(try ConvergeConfig.locate(environment: env, currentDirectory: cwd.path) == xdgFile)
        try "concurrency: 2\n".write(toFile: localFile, atomically: true, encoding: .utf8)
        #expect(try ConvergeConfig.locate(environment: env, currentDirectory: cwd.path) == localFile)
        try "concurrency: 3\n".write(toFile: envFile, atomically: true, encoding: .utf8)
        var withVariable = env
        withVariable["CONVERGE_CONFIG"] = envFile
        #expect(try ConvergeConfig.locate(environment: withVariable, currentDirectory: cwd.path) == envFile)
        try "concurrency: 4\n".write(toFile: flagFile, atomically: true, encoding: .utf8)
        let loaded = try ConvergeConfig.load(explicitPath: flagFile, environment: withVariable, currentDirectory: cwd.path)
        #expect(loaded.concurrency == 4)
        #expect(throws: InputError.self) {
            try ConvergeConfig.locate(explicitPath: root.appendingPathComponent("missing.yaml").path, environment: env)
        }
        #expect(try ConvergeConfig.locate(environment: ["HOME": root.path], currentDirectory: root.path) == nil)
        #expect(try ConvergeConfig.load(environment: ["HOME": root.path], currentDirectory: root.path) == ConvergeConfig())
    }
}

/// Found by a fresh-user pass: a password in a base URL reached the stored request through the cache identity.
@Test func theCacheIdentityHoldsNoCredentials() {
    let endpoint = ProviderEndpoint(name: "openai", kind: .openAI, baseURL: "http://user:BasicSecret9@127.0.0.1:18080/v1")
    #expect(endpoint.identity == "openai http://127.0.0.1:18080/v1")
    let plain = ProviderEndpoint(name: "x", kind: .anthropic, baseURL: "https://api.example/v1/a@b")
    #expect(plain.identity == "anthropic https://api.example/v1/a@b")
}
