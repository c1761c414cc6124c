// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Converge",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "ConvergeCore", targets: ["ConvergeCore"]),
        .library(name: "ConvergeAnalysis", targets: ["ConvergeAnalysis"]),
        .library(name: "ConvergeReport", targets: ["ConvergeReport"]),
        .executable(name: "converge", targets: ["converge"]),
        .executable(name: "converge-eval", targets: ["converge-eval"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    ],
    targets: [
        // Domain values and contracts; no dependencies.
        .target(name: "ConvergeCore", dependencies: [.product(name: "Yams", package: "Yams")]),
        // The pure analysis engine: segmentation, lexical representation, matching, scoring.
        .target(name: "ConvergeAnalysis", dependencies: ["ConvergeCore"]),
        // Renderers: Markdown, JSON, CSV.
        .target(name: "ConvergeReport", dependencies: ["ConvergeCore"]),
        // The CLI: a thin layer over the libraries.
        .executableTarget(
            name: "converge",
            dependencies: [
                "ConvergeCore", "ConvergeAnalysis", "ConvergeReport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Developer tool: benchmarks and quality evaluations.
        .executableTarget(
            name: "converge-eval",
            dependencies: [
                "ConvergeCore", "ConvergeAnalysis", "ConvergeReport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "ConvergeAnalysisTests", dependencies: ["ConvergeAnalysis", "ConvergeReport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "ConvergeReportTests", dependencies: ["ConvergeReport", "ConvergeAnalysis"]),
        .testTarget(name: "ConvergeCLITests", dependencies: ["converge"]),
    ],
    swiftLanguageModes: [.v6]
)
