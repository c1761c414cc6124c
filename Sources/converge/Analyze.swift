import ArgumentParser
import ConvergeAnalysis
import ConvergeCore
import ConvergeReport

/// `converge analyze`: consolidate answers that are already on disk. No model is called, except a judge named
/// by `--judge`.
struct Analyze: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Consolidate a panel's answers into evidence-linked key points.",
        discussion: """
            PATH is a survey folder (prompt.md, one *.md or *.txt answer per panelist, rubric.yaml) or answer \
            files; the panelist id is the file stem. Without --similarity, matching is hybrid; the first run \
            without the embedding model installs it (as `converge models install minilm` does) unless --offline. \
            No model is called unless --judge names one; a judge that fails leaves the report as it would be \
            without it (exit status 0, one line on standard error).
            """
    )

    @Argument(help: "Survey folders or answer files.")
    var paths: [String]

    @Option(help: "Rubric YAML to check coverage against (overrides a folder's rubric.yaml).")
    var rubric: String?

    @Flag(name: .customLong("no-rubric"), help: "Ignore rubric.yaml in survey folders.")
    var noRubric = false

    @Option(name: .customLong("prompt-file"), help: "File holding the prompt (overrides a folder's prompt.md).")
    var promptFile: String?

    @OptionGroup var report: ReportOptions

    @OptionGroup var matching: SimilarityOptions

    @OptionGroup var judging: JudgeOptions

    @Option(help: "Configuration file for the judge's provider (default: ./converge.yaml, then $XDG_CONFIG_HOME/converge/converge.yaml).")
    var config: String?

    @Flag(help: """
        Never download: without the embedding model, match lexically instead of installing it first (also \
        CONVERGE_OFFLINE=1).
        """)
    var offline = false

    func validate() throws {
        if rubric != nil && noRubric {
            throw ValidationError("--rubric and --no-rubric cannot be used together")
        }
    }

    func run() async throws {
        let input = try SurveyFolder.load(paths: paths, promptFile: promptFile, rubricFile: rubric,
                                          useFolderRubric: !noRubric)
        try report.checkOutput(against: input.sources)
        let judge = try judging.judge(config: config)
        let progress = EncodingProgress()
        let analyzer = Analyzer(similarity: try matching.model(whenMissing: .fetch(offline: offline)) {
            progress.report(encoded: $0, total: $1)
        })
        var result = analyzer.analyze(input)
        if let judge { result = await judge.judgeReporting(result, input: input, analyzer: analyzer) }
        // The HTML page shows quotes in context and the answers in full: it reads them from the report.
        if report.format == .html { result = result.attachingAnswers(input.answers) }
        if report.blind { result = result.blinded() }
        try report.emit(result)
    }
}
