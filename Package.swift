// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Converge",
    // macOS 15: Synchronization's Mutex.
    platforms: [.macOS(.v15)],
    // The libraries others may depend on (no unsafe flags, no system library: usable as a versioned
    // dependency; scripts/check-dependency proves it). Test support is an internal target, not a product; the
    // HTTP API's generated types are internal to ConvergeServer.
    products: [
        .library(name: "ConvergeCore", targets: ["ConvergeCore"]),
        .library(name: "ConvergeAnalysis", targets: ["ConvergeAnalysis"]),
        .library(name: "ConvergeReport", targets: ["ConvergeReport"]),
        .library(name: "ConvergeEmbeddings", targets: ["ConvergeEmbeddings"]),
        .library(name: "ConvergeProviders", targets: ["ConvergeProviders"]),
        .library(name: "ConvergeStore", targets: ["ConvergeStore"]),
        .library(name: "ConvergeRunner", targets: ["ConvergeRunner"]),
        .library(name: "ConvergeJudge", targets: ["ConvergeJudge"]),
        .library(name: "ConvergeMCP", targets: ["ConvergeMCP"]),
        .library(name: "ConvergeServer", targets: ["ConvergeServer"]),
        .executable(name: "converge", targets: ["converge"]),
        .executable(name: "converge-eval", targets: ["converge-eval"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", "3.9.0"..<"5.0.0"),
        .package(url: "https://github.com/vapor/sql-kit", from: "3.34.0"),
        .package(url: "https://github.com/vapor/sqlite-kit", from: "4.5.0"),
        .package(url: "https://github.com/vapor/postgres-kit", from: "2.17.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.25.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-openapi-generator", from: "1.14.3"),
        .package(url: "https://github.com/apple/swift-openapi-runtime", from: "1.13.4"),
        // No default traits: swift-configuration support is not used.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/hummingbird-project/swift-openapi-hummingbird", from: "2.1.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
        .package(url: "https://github.com/vapor/multipart-kit", from: "4.7.1"),
        .package(url: "https://github.com/modelcontextprotocol/swift-sdk", from: "0.12.1"),
        // The SDK's stdio transport takes its file descriptors (the MCP tests connect a client to a child's pipes).
        .package(url: "https://github.com/apple/swift-system", from: "1.0.0"),
    ],
    targets: [
        // Domain values and contracts; its one dependency is Yams (rubric YAML).
        .target(name: "ConvergeCore", dependencies: [.product(name: "Yams", package: "Yams")]),
        // The pure analysis engine: segmentation, lexical representation, matching, scoring.
        .target(name: "ConvergeAnalysis", dependencies: ["ConvergeCore"]),
        // Native sentence embeddings: WordPiece tokenizer, safetensors reader, BERT encoder, model installation.
        // Implements ConvergeAnalysis's `SentenceEncoder`. Matrix products go through a CBLAS opened at run time
        // (dlopen: OpenBLAS or any CBLAS, Accelerate on macOS) or a native Swift kernel: nothing to install to
        // build it.
        // With CONVERGE_ENCODER_PRECISION=bf16 the weight products run on CConvergeKernels' AVX512-BF16 kernel.
        .target(
            name: "ConvergeEmbeddings",
            dependencies: ["ConvergeCore", "ConvergeAnalysis", "CConvergeKernels",
                           .product(name: "ZIPFoundation", package: "ZIPFoundation")]
        ),
        // BF16 x BF16 -> Float32 matrix products (AVX512-BF16 `vdpbf16ps`) and int8 x uint8 -> Int32 ones
        // (AVX512-VNNI `vpdpbusd`) in C: only their kernel functions are compiled for AVX-512 (function `target`
        // attributes, no flags), and they run only where the CPU says it has the instructions
        // (`converge_bf16_supported`, `converge_int8_supported`). Compiled by the toolchain's clang; nothing to install.
        .target(name: "CConvergeKernels"),
        // Renderers: Markdown, JSON, CSV, HTML.
        .target(name: "ConvergeReport", dependencies: ["ConvergeCore"]),
        // LLMProvider protocol; OpenAI-compatible, Anthropic and Gemini clients over AsyncHTTPClient;
        // model specs, converge.yaml providers/panels, keys from the environment, retry policy.
        .target(
            name: "ConvergeProviders",
            dependencies: [
                "ConvergeCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // An optional judge model, held to the evidence: its brief (blind labels, shuffled order), the reply
        // contract, quote location and verification against the answers and the matcher.
        .target(name: "ConvergeJudge", dependencies: ["ConvergeCore", "ConvergeAnalysis", "ConvergeProviders"]),
        // Keeps surveys: one storage protocol over SQLKit, on SQLite (default) and PostgreSQL; migrations.
        .target(
            name: "ConvergeStore",
            dependencies: [
                "ConvergeCore",
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "SQLiteKit", package: "sqlite-kit"),
                .product(name: "PostgresKit", package: "postgres-kit"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Runs surveys: fan-out of panelists x samples per turn, limits, timeouts, retries, progress events;
        // journals every request to the store, answers repeats from the response cache, resumes; the workers
        // that take queued threads from PostgreSQL (a ServiceLifecycle service) and the front ends' follower.
        .target(
            name: "ConvergeRunner",
            dependencies: [
                "ConvergeCore", "ConvergeAnalysis", "ConvergeProviders", "ConvergeStore", "ConvergeJudge",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Scriptable loopback provider server (OpenAI, Anthropic, Gemini wire formats) for tests and benchmarks;
        // headless Chromium for tests (command line, and a DevTools-protocol driver over a pipe).
        .target(
            name: "ConvergeTestSupport",
            dependencies: [
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // Converge as a Model Context Protocol server (the official Swift SDK): tools, resources and a prompt over
        // stdio (`converge mcp`) or streamable HTTP (`converge serve` at /mcp). Surveys are planned with SurveyPlan.
        .target(
            name: "ConvergeMCP",
            dependencies: [
                "ConvergeCore", "ConvergeAnalysis", "ConvergeReport", "ConvergeProviders", "ConvergeStore",
                "ConvergeRunner", "ConvergeJudge",
                .product(name: "MCP", package: "swift-sdk"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The multipart/form-data parser of the server's forms (MultipartKit), on its own so that the fuzz target
        // runs it without the server.
        .target(
            name: "ConvergeForms",
            dependencies: [
                .product(name: "MultipartKit", package: "multipart-kit"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // The Hummingbird app: API handlers, pages, auth, limits, metrics; stored surveys run in the background.
        // The HTTP API is spec first: API/openapi.yaml; its types and server stubs are generated (internal) by
        // swift-openapi-generator's build plugin.
        .target(
            name: "ConvergeServer",
            dependencies: [
                "ConvergeCore", "ConvergeAnalysis", "ConvergeReport",
                "ConvergeProviders", "ConvergeStore", "ConvergeRunner", "ConvergeJudge", "ConvergeMCP", "ConvergeForms",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "OpenAPIHummingbird", package: "swift-openapi-hummingbird"),
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "MultipartKit", package: "multipart-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            resources: [.embedInCode("Assets/survey.js"), .embedInCode("API/openapi.yaml")],
            plugins: [.plugin(name: "OpenAPIGenerator", package: "swift-openapi-generator")]
        ),
        // The CLI: a thin layer over the libraries.
        .executableTarget(
            name: "converge",
            dependencies: [
                "ConvergeCore", "ConvergeAnalysis", "ConvergeReport", "ConvergeProviders", "ConvergeRunner",
                "ConvergeStore",
                "ConvergeServer",
                "ConvergeJudge",
                "ConvergeEmbeddings",
                "ConvergeMCP",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // Developer tool: benchmarks and quality evaluations.
        .executableTarget(
            name: "converge-eval",
            dependencies: [
                "ConvergeCore", "ConvergeAnalysis", "ConvergeReport", "ConvergeProviders", "ConvergeRunner",
                "ConvergeTestSupport", "ConvergeStore", "ConvergeEmbeddings", "CConvergeKernels",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // Fuzz targets (scripts/fuzz builds them with libFuzzer and AddressSanitizer; a plain build replays corpora).
        // The provider decoders and the form parser bring AsyncHTTPClient's and MultipartKit's NIO modules into that build.
        .executableTarget(
            name: "converge-fuzz",
            dependencies: [
                "ConvergeCore", "ConvergeAnalysis", "ConvergeEmbeddings", "ConvergeProviders", "ConvergeForms",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "ConvergeAnalysisTests", dependencies: ["ConvergeAnalysis", "ConvergeReport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "ConvergeEmbeddingsTests", dependencies: ["ConvergeEmbeddings", "ConvergeAnalysis"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "ConvergeReportTests", dependencies: ["ConvergeReport", "ConvergeAnalysis", "ConvergeTestSupport"]),
        .testTarget(
            name: "ConvergeTestSupportTests",
            dependencies: [
                "ConvergeTestSupport",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "ConvergeFormsTests", dependencies: ["ConvergeForms", .product(name: "NIOCore", package: "swift-nio")]),
        .testTarget(name: "ConvergeProvidersTests", dependencies: ["ConvergeProviders", "ConvergeTestSupport",
                                                           .product(name: "NIOHTTP1", package: "swift-nio")]),
        .testTarget(name: "ConvergeJudgeTests",
                    dependencies: ["ConvergeJudge", "ConvergeAnalysis", "ConvergeProviders", "ConvergeTestSupport"]),
        .testTarget(name: "ConvergeRunnerTests",
                    dependencies: ["ConvergeRunner", "ConvergeProviders", "ConvergeTestSupport", "ConvergeStore",
                                   "ConvergeEmbeddings"]),
        .testTarget(name: "ConvergeStoreTests", dependencies: ["ConvergeStore", "ConvergeTestSupport"]),
        .testTarget(
            name: "ConvergeMCPTests",
            dependencies: [
                "ConvergeMCP", "converge", "ConvergeServer", "ConvergeTestSupport", "ConvergeStore", "ConvergeProviders",
                .product(name: "MCP", package: "swift-sdk"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "ConvergeCLITests", dependencies: ["converge", "ConvergeTestSupport", "ConvergeStore"]),
                .testTarget(
            name: "ConvergeServerTests",
            dependencies: [
                "ConvergeServer", "ConvergeCore", "ConvergeAnalysis", "ConvergeReport", "converge",
                "ConvergeProviders", "ConvergeStore", "ConvergeRunner", "ConvergeTestSupport", "ConvergeEmbeddings",
                "ConvergeForms",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "InMemoryLogging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
