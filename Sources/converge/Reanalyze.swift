import ArgumentParser
import ConvergeAnalysis
import ConvergeCore
import ConvergeRunner
import Foundation

/// `converge reanalyze ID`: analyse a stored survey's answers again (a newer engine, another rubric).
struct Reanalyze: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Analyse a stored survey's answers again and store the new analysis.",
        discussion: """
            No model is called, except a judge named by --judge: it judges the stored answers again (the panel is \
            not asked), and its verified claims are stored with the new analysis. The judge's request goes through \
            the response cache: an identical request (same answers, judge and settings) is answered from the store \
            unless --no-cache. A judge that fails leaves the analysis as it would be without it (exit status 0, \
            one line on standard error).
            """
    )

    @Argument(help: "Survey id (or a unique prefix).")
    var id: String

    @Option(help: "Rubric YAML to use instead of the survey's own.")
    var rubric: String?

    @OptionGroup var matching: SimilarityOptions
    @OptionGroup var judging: JudgeOptions
    @OptionGroup var storage: StoreOptions
    @OptionGroup var report: ReportOptions

    @Option(help: "Configuration file for the judge's provider (default: ./converge.yaml, then $XDG_CONFIG_HOME/converge/converge.yaml).")
    var config: String?

    @Flag(name: .customLong("no-cache"), help: "Ask the judge again even when an identical request was answered before.")
    var noCache = false

    func validate() throws {
    }

    func run() async throws {
        try report.checkOutput(against: rubric.map { [$0] } ?? [])
        try report.preflight()
        let given = try rubric.map { try Rubric(yaml: SurveyFolder.readText($0), file: $0) }
        let progress = EncodingProgress()
        let judge = try judging.judge(config: config)
        let result = try await storage.withStore { store in
            let archive = SurveyArchive(store: store)
            let loaded = try await archive.load(id)
            // Without --similarity, the matching the survey was asked with (its spec), else the default.
            let analyzer = Analyzer(similarity: try matching.model(stored: loaded.spec.similarity) {
                progress.report(encoded: $0, total: $1)
            })
            let stored = SurveyArchive.result(of: loaded)
            let rubric = try given ?? loaded.spec.parsedRubric()
            // Sentence vectors from the survey's embedding cache: a second reanalysis encodes nothing.
            var (analysis, session) = await archive.reanalyse(loaded, rubric: rubric, analyzer: analyzer)
            if let judge {
                let cache = StoreModelCallCache(store: store, surveyID: loaded.record.id, useCache: !noCache)
                analysis = await judge.caching(cache).judgeReporting(analysis, input: stored.analysisInput(rubric: rubric),
                                                                     analyzer: session.analyzer)
            }
            await session.keep()
            try await archive.saveAnalysis(loaded.record.id, report: analysis, turn: max(0, loaded.turns.count - 1))
            return analysis
        }
        try report.emit(report.blind ? result.blinded() : result)
    }
}
