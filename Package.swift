// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Converge",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "ConvergeCore", targets: ["ConvergeCore"]),
        .library(name: "ConvergeAnalysis", targets: ["ConvergeAnalysis"]),
        .library(name: "ConvergeReport", targets: ["ConvergeReport"]),
        .library(name: "ConvergeEmbeddings", targets: ["ConvergeEmbeddings"]),
        .library(name: "ConvergeProviders", targets: ["ConvergeProviders"]),
        .library(name: "ConvergeRunner", targets: ["ConvergeRunner"]),
        .library(name: "ConvergeTestSupport", targets: ["ConvergeTestSupport"]),
        .executable(name: "converge", targets: ["converge"]),
        .executable(name: "converge-eval", targets: ["converge-eval"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
    ],
    targets: [
        // Domain values and contracts; no dependencies.
        .target(name: "ConvergeCore", dependencies: [.product(name: "Yams", package: "Yams")]),
        // The pure analysis engine: segmentation, lexical representation, matching, scoring.
        .target(name: "ConvergeAnalysis", dependencies: ["ConvergeCore"]),
        // CBLAS from OpenBLAS (Debian's libopenblas-dev; scripts/test installs it).
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS",
                       providers: [.apt(["libopenblas-dev"])]),
        // Native sentence embeddings: WordPiece tokenizer, safetensors reader, BERT encoder over BLAS, model
        // installation. Implements ConvergeAnalysis's `SentenceEncoder`.
        .target(
            name: "ConvergeEmbeddings",
            dependencies: ["ConvergeCore", "ConvergeAnalysis", "COpenBLAS",
                           .product(name: "ZIPFoundation", package: "ZIPFoundation")],
            swiftSettings: [.unsafeFlags(["-Ounchecked"])]
        ),
        // Renderers: Markdown, JSON, CSV.
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
        // Runs surveys: fan-out of panelists x samples per turn, limits, timeouts, retries, progress events.
        .target(
            name: "ConvergeRunner",
            dependencies: [
                "ConvergeCore", "ConvergeAnalysis", "ConvergeProviders",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Scriptable loopback provider server (OpenAI, Anthropic, Gemini wire formats) for tests and benchmarks.
        .target(
            name: "ConvergeTestSupport",
            dependencies: [
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // The CLI: a thin layer over the libraries.
        .executableTarget(
            name: "converge",
            dependencies: [
                "ConvergeCore", "ConvergeAnalysis", "ConvergeReport", "ConvergeProviders", "ConvergeRunner",
                "ConvergeEmbeddings",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Developer tool: benchmarks and quality evaluations.
        .executableTarget(
            name: "converge-eval",
            dependencies: [
                "ConvergeCore", "ConvergeAnalysis", "ConvergeReport", "ConvergeProviders", "ConvergeRunner",
                "ConvergeTestSupport", "ConvergeEmbeddings",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "ConvergeAnalysisTests", dependencies: ["ConvergeAnalysis", "ConvergeReport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "ConvergeEmbeddingsTests", dependencies: ["ConvergeEmbeddings", "ConvergeAnalysis"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "ConvergeReportTests", dependencies: ["ConvergeReport", "ConvergeAnalysis"]),
        .testTarget(name: "ConvergeProvidersTests", dependencies: ["ConvergeProviders", "ConvergeTestSupport"]),
        .testTarget(name: "ConvergeRunnerTests",
                    dependencies: ["ConvergeRunner", "ConvergeProviders", "ConvergeTestSupport"]),
        .testTarget(name: "ConvergeCLITests", dependencies: ["converge", "ConvergeTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
