import ArgumentParser
import ConvergeAnalysis
import ConvergeCore
import ConvergeEmbeddings
import ConvergeReport
import Foundation

/// `converge-eval consolidation DIR...`: analyses each consolidation gold folder as `converge analyze DIR
/// --no-rubric` does and scores the report against `DIR/gold.json` with the measures of
/// `../shared/tools/consolidation-score` (`ConsolidationScorer`: B-cubed precision, recall and F1 over who makes
/// which point, support agreement, false agreement, filler, key point count, exact quotes).
///
/// Text output: a header, then per folder the script's line (after its `-v` lines with `--verbose`), then
/// `MEAN over N: ...` and the analysis time. With `--report FILE` (one folder): only what the script prints for
/// that report, so the two outputs can be compared byte for byte. `--format json`: `{engine, similarity,
/// folders: [{folder, path, score: {the script's --json keys}, report?, analysisSeconds?, flagged?}], mean:
/// {folders, f1, precision, recall, conv_recall, conv_exact, false_conv, filler, ratio}, analysisSeconds,
/// modelLoadSeconds}`: `report` is the report file (written or scored), `flagged` the `-v` key points with
/// `--verbose`; `similarity` and the times are null with `--report`.
struct Consolidation: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consolidation",
        abstract: "Score no-rubric analyses against consolidation golds (B-cubed F1, support agreement, filler).",
        discussion: """
            Each DIR holds answers (one *.md per panelist), prompt.md and gold.json (see \
            ../shared/corpus/consolidation/ANNOTATION.md). The measures are those of \
            ../shared/tools/consolidation-score, to which the figures agree.
            """
    )

    enum Format: String, CaseIterable, ExpressibleByArgument {
        case text, json
    }

    @Argument(help: ArgumentHelp("Consolidation gold folders (answers, prompt.md, gold.json).", valueName: "dir"))
    var folders: [String]

    @Option(help: """
        How statements are matched: lexical, embedding or hybrid. Default: hybrid when the model is installed, \
        else lexical (as converge analyze).
        """)
    var similarity: String?

    @Option(name: .customLong("report-dir"), help: "Write each folder's report JSON to this folder as NAME.json.")
    var reportDir: String?

    @Option(help: "Score this report JSON against the one folder given instead of analysing it.")
    var report: String?

    @Flag(name: .shortAndLong, help: "List the key points that are filler or false agreement (the script's -v).")
    var verbose = false

    @Option(help: "Output: text or json.")
    var format: Format = .text

    @Option(help: "Write every cross-answer statement pair with its gold labels and matcher evidence to this JSON file (hybrid).")
    var pairs: String?

    func validate() throws {
        guard !folders.isEmpty else { throw ValidationError("give at least one consolidation gold folder") }
        if let similarity, !["lexical", "embedding", "hybrid"].contains(similarity) {
            throw ValidationError("--similarity must be lexical, embedding or hybrid, not \(similarity)")
        }
        if report != nil {
            if folders.count != 1 { throw ValidationError("--report scores one report: give exactly one folder") }
            if similarity != nil || reportDir != nil {
                throw ValidationError("--report scores an existing report: --similarity and --report-dir do not apply")
            }
        }
        if reportDir != nil {
            var seen: [String: String] = [:]
            for folder in folders {
                let name = Self.name(folder)
                if let other = seen[name] {
                    throw ValidationError("--report-dir: \(other) and \(folder) would both write \(name).json")
                }
                seen[name] = folder
            }
        }
    }

    /// A folder's name as the script prints it: its last path component.
    static func name(_ folder: String) -> String {
        var path = folder
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        return URL(fileURLWithPath: path).lastPathComponent
    }

    /// One folder, read and checked before any analysis.
    struct Folder {
        var path: String
        var name: String
        var input: AnalysisInput
        var answers: [String: String]
        var gold: LocatedGold
    }

    /// One folder's line of the JSON output.
    struct FolderResult: Encodable {
        var folder: String
        var path: String
        var report: String?
        var analysisSeconds: Double?
        var score: ConsolidationScore
        var flagged: [FlaggedKeyPoint]?
        /// The report's categories against the gold's (analysed folders only).
        var categories: CategoryAgreement?
        /// Whether its key points mix gold points (analysed folders only).
        var purity: KeyPointPurity?
    }

    /// The JSON output.
    struct Output: Encodable {
        var engine: String
        var similarity: String?
        var folders: [FolderResult]
        var mean: ConsolidationMean
        var analysisSeconds: Double?
        var modelLoadSeconds: Double?

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(engine, forKey: .engine)
            try c.encode(similarity, forKey: .similarity)
            try c.encode(folders, forKey: .folders)
            try c.encode(mean, forKey: .mean)
            try c.encode(analysisSeconds, forKey: .analysisSeconds)
            try c.encode(modelLoadSeconds, forKey: .modelLoadSeconds)
        }
        enum CodingKeys: String, CodingKey {
            case engine, similarity, folders, mean, analysisSeconds, modelLoadSeconds
        }
    }

    func run() throws {
        let loaded = try folders.map(Self.load)
        if let report {
            let folder = loaded[0]
            let keyPoints = try ConsolidationFiles.reportKeyPoints(report, answers: folder.answers)
            let (score, flagged) = ConsolidationScorer.score(keyPoints, gold: folder.gold, answers: folder.answers)
            switch format {
            case .text:
                if verbose { flagged.forEach { print($0.line) } }
                print(score.line(folder.name))
            case .json:
                let result = FolderResult(folder: folder.name, path: folder.path, report: report, analysisSeconds: nil,
                                          score: score, flagged: verbose ? flagged : nil)
                try emit(Output(engine: ConvergeVersion.current, similarity: nil, folders: [result],
                                mean: ConsolidationMean([score]), analysisSeconds: nil, modelLoadSeconds: nil))
            }
            return
        }

        if let reportDir { try Self.prepare(reportDir) }
        let ((matching, model), loadSeconds) = try Measure.time { try Self.model(similarity) }
        let recorder = pairs == nil ? nil : RecordingSimilarity(model)
        let analyzer = Analyzer(similarity: recorder ?? model)
        var pairFolders: [ConsolidationPairs.Folder] = []
        if format == .text {
            print("consolidation: \(loaded.count) gold folder\(loaded.count == 1 ? "" : "s"), \(matching) matching, "
                  + "no rubric, engine \(ConvergeVersion.current)")
        }
        var results: [FolderResult] = []
        for folder in loaded {
            let (analysis, seconds) = Measure.time { analyzer.analyze(folder.input) }
            var written: String?
            if let reportDir {
                let path = URL(fileURLWithPath: reportDir).appendingPathComponent(folder.name + ".json").path
                try AtomicFile.write(JSONRenderer.render(analysis), to: path)
                written = path
            }
            if let recorder, let (input, prepared) = recorder.take() {
                pairFolders.append(try ConsolidationPairs.folder(folder.name, report: analysis, input: input, prepared: prepared,
                                                                 gold: folder.gold))
            }
            let (score, flagged) = ConsolidationScorer.score(analysis, gold: folder.gold, answers: folder.answers)
            if format == .text {
                if verbose { flagged.forEach { print($0.line) } }
                print(score.line(folder.name))
            }
            results.append(FolderResult(folder: folder.name, path: folder.path, report: written,
                                        analysisSeconds: seconds, score: score, flagged: verbose ? flagged : nil,
                                        categories: CategoryAgreement(analysis, gold: folder.gold),
                                        purity: KeyPointPurity(analysis, gold: folder.gold)))
        }
        try (model.sentenceEncoder as? VectorTable)?.finish()
        if let pairs {
            let json = JSONEncoder()
            json.outputFormatting = [.sortedKeys]
            try AtomicFile.write(String(decoding: try json.encode(pairFolders), as: UTF8.self), to: pairs)
        }
        let mean = ConsolidationMean(results.map(\.score))
        let times = results.compactMap(\.analysisSeconds)
        let total = times.reduce(0, +)
        switch format {
        case .text:
            print(mean.line)
            let categories = results.compactMap(\.categories)
            if !categories.isEmpty {
                func average(_ value: (CategoryAgreement) -> Double) -> String {
                    String(format: "%.3f", categories.map(value).reduce(0, +) / Double(categories.count))
                }
                print("MEAN categories over \(categories.count): F1 \(average(\.f1)) (P \(average(\.precision)) "
                      + "R \(average(\.recall))); themes \(average { Double($0.categories) }) per report "
                      + "(gold \(average { Double($0.goldCategories) }))")
            }
            let purity = results.compactMap(\.purity)
            if !purity.isEmpty {
                print("MEAN purity over \(purity.count): "
                      + String(format: "%.3f", purity.map(\.purity).reduce(0, +) / Double(purity.count))
                      + "; most gold points in one key point: " + purity.map { String($0.mostGoldPoints) }.joined(separator: " "))
            }
            print("analysis: \(String(format: "%.2f", total)) s for \(results.count) folder\(results.count == 1 ? "" : "s") "
                  + "(\(Measure.ms(total / Double(max(results.count, 1)))) mean, \(Measure.ms(times.max() ?? 0)) max); "
                  + "model load \(Measure.ms(loadSeconds))")
        case .json:
            try emit(Output(engine: ConvergeVersion.current, similarity: matching, folders: results, mean: mean,
                            analysisSeconds: total, modelLoadSeconds: loadSeconds))
        }
    }

    private func emit(_ output: Output) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        FileHandle.standardOutput.write(try encoder.encode(output) + Data("\n".utf8))
    }

    /// Reads a gold folder: the answers and prompt as `converge analyze DIR --no-rubric` does, and `gold.json`,
    /// located in the answers.
    ///
    /// - Throws: `EvalError` for a missing folder or `gold.json`, answers that cannot be read, a gold that is
    ///   not JSON or lacks a field, and a gold quote that its answer does not hold.
    static func load(_ path: String) throws -> Folder {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw EvalError("\(path): no such folder (expected a consolidation gold folder: answers, prompt.md, gold.json)")
        }
        let goldPath = URL(fileURLWithPath: path).appendingPathComponent("gold.json").path
        guard FileManager.default.fileExists(atPath: goldPath) else {
            throw EvalError("\(goldPath): no such file (a consolidation gold folder holds gold.json beside the answers)")
        }
        let input: AnalysisInput
        do {
            input = try SurveyFolder.load(paths: [path], useFolderRubric: false)
        } catch let error as InputError {
            throw EvalError(error.description)
        }
        let answers = ConsolidationFiles.answers(input)
        let gold = try ConsolidationFiles.locate(ConsolidationFiles.gold(goldPath), file: goldPath, answers: answers)
        return Folder(path: path, name: name(path), input: input, answers: answers, gold: gold)
    }

    /// Creates the report folder when missing; `EvalError` when it cannot be, or is a file.
    static func prepare(_ reportDir: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: reportDir, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw EvalError("--report-dir \(reportDir): is a file, not a folder") }
            return
        }
        do {
            try FileManager.default.createDirectory(atPath: reportDir, withIntermediateDirectories: true)
        } catch {
            throw EvalError("--report-dir \(reportDir): cannot create the folder (\((error as NSError).localizedDescription))")
        }
    }

    /// The matching as `converge analyze` chooses it (`ModelStore.similarityModel`): the one asked for, else
    /// hybrid when all-MiniLM-L6-v2 is installed and lexical when it is not; with its name.
    ///
    /// - Throws: `EvalError` when the embedding model is needed but missing or damaged.
    static func model(_ similarity: String?) throws -> (String, any SimilarityModel) {
        let threshold = try EvalOverrides.clusterThreshold()
        if let table = try VectorTable.fromEnvironment() {
            switch similarity {
            case "embedding":
                return ("embedding", EmbeddingSimilarity(encoder: table, clusterThreshold: threshold ?? 0.72))
            case "hybrid":
                return ("hybrid", HybridSimilarity(encoder: table, matcher: try EvalOverrides.matcher(),
                                                   clusterThreshold: threshold ?? 0.98))
            default:
                throw EvalError("CONVERGE_EVAL_VECTORS needs --similarity embedding or hybrid")
            }
        }
        let matcher = try EvalOverrides.matcher()
        let (name, model): (String, any SimilarityModel)
        do {
            (name, model) = try ModelStore().similarityModel(similarity)
        } catch let error as ModelStore.SimilarityError {
            throw EvalError(error.description)
        }
        guard threshold != nil || matcher != nil else { return (name, model) }
        switch (name, model.sentenceEncoder) {
        case ("hybrid", let encoder?):
            return (name, HybridSimilarity(encoder: encoder, matcher: matcher, clusterThreshold: threshold ?? 0.98))
        case ("embedding", let encoder?) where matcher == nil:
            return (name, EmbeddingSimilarity(encoder: encoder, clusterThreshold: threshold ?? 0.72))
        default:
            throw EvalError("CONVERGE_EVAL_MATCHER applies to hybrid matching, CONVERGE_EVAL_CLUSTER_THRESHOLD to embedding or hybrid")
        }
    }
}
