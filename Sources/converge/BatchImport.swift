import ConvergeAnalysis
import ConvergeCore
import ConvergeProviders
import ConvergeRunner
import ConvergeStore
import Foundation

/// `converge batch --from-folders DIR...`: answer folders stored as a batch of analysed surveys; no model is
/// called. Each DIR is a survey folder (answers, optional `prompt.md` and `rubric.yaml`) or a folder whose
/// subfolders are survey folders; an item's id is its folder's name.
struct BatchImport {
    var folders: [String]
    var rubric: String?
    var quiet: Bool
    var storage: StoreOptions
    var report: BatchReportOptions
    var matching: SimilarityOptions
    var config: String?

    /// The survey folders `folders` name, in order: a folder with answer files is one, else its subfolders
    /// (by name) are.
    /// - Throws: `InputError` for a path that is not a folder, or a folder with neither answers nor subfolders.
    static func surveyFolders(_ folders: [String]) throws -> [String] {
        let fm = FileManager.default
        var result: [String] = []
        for folder in folders {
            var isFolder: ObjCBool = false
            guard fm.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
                throw InputError(file: folder, "not a folder (--from-folders takes answer folders)")
            }
            let names = try fm.contentsOfDirectory(atPath: folder).sorted().filter { !$0.hasPrefix(".") }
            let hasAnswers = names.contains { name in
                let url = URL(fileURLWithPath: name)
                return SurveyFolder.answerExtensions.contains(url.pathExtension.lowercased())
                    && !SurveyFolder.reservedStems.contains(url.deletingPathExtension().lastPathComponent.lowercased())
            }
            if hasAnswers {
                result.append(folder)
                continue
            }
            let subfolders = names.map { (folder as NSString).appendingPathComponent($0) }.filter {
                var sub: ObjCBool = false
                return fm.fileExists(atPath: $0, isDirectory: &sub) && sub.boolValue
            }
            if subfolders.isEmpty { throw InputError(file: folder, "holds no answers and no answer folders") }
            result += subfolders
        }
        return result
    }

    func run() async throws {
        let configuration = try ConvergeConfig.load(explicitPath: config)
        let progress = EncodingProgress()
        let similarity = try matching.model { progress.report(encoded: $0, total: $1) }
        try report.preflight()
        let analyzer = Analyzer(similarity: similarity)
        var inputs: [(id: String, folder: String, input: AnalysisInput)] = []
        var seen: [String: String] = [:]
        for folder in try Self.surveyFolders(folders) {
            let id = URL(fileURLWithPath: folder).standardizedFileURL.lastPathComponent
            guard BatchInput.isName(id) else {
                throw InputError(file: folder, "the folder's name is the item's id: 1 to 100 of A-Z a-z 0-9 . _ -")
            }
            if let first = seen[id.lowercased()] { throw InputError(file: folder, "duplicate id `\(id)` (first: \(first))") }
            seen[id.lowercased()] = folder
            inputs.append((id, folder, try SurveyFolder.load(paths: [folder], rubricFile: rubric)))
        }
        try await storage.withStore(creating: true) { store in
            let archive = SurveyArchive(store: store)
            var items: [StoredBatch.Item] = []
            for (n, entry) in inputs.enumerated() {
                let members = entry.input.answers.map(\.panelist).map {
                    SurveySpec.Member(id: $0.id, label: $0.label, model: $0.model ?? "imported/\($0.id)")
                }
                var unique: [SurveySpec.Member] = []
                for member in members where !unique.contains(where: { $0.id == member.id }) { unique.append(member) }
                let rubricSource = try entry.input.rubric.map {
                    SurveySpec.RubricSource(file: "\(entry.folder) (imported)", yaml: try $0.yamlText())
                }
                // Without prompt.md the listing names the folder, and the turn has no prompt (it is not matched).
                var survey = Survey(prompt: entry.input.prompt ?? "(no prompt.md in \(entry.folder))")
                if entry.input.prompt == nil { survey.turns = [""] }
                let samplesPerPanelist = Dictionary(grouping: entry.input.answers, by: \.panelist.id).values.map(\.count).max() ?? 1
                let id = try await archive.create(survey, spec: SurveySpec(panel: unique, samples: samplesPerPanelist,
                                                                           rubric: rubricSource))
                // The answers are stored as answered requests, so that `reanalyze` and `surveys resume` find them.
                var samples: [String: Int] = [:]
                for answer in entry.input.answers {
                    let sample = samples[answer.panelist.id, default: 0]
                    samples[answer.panelist.id] = sample + 1
                    try await store.recordAnswer(
                        surveyID: id, key: StoredRequestKey(turn: 0, panelistID: answer.panelist.id, sample: sample),
                        cacheKey: "imported:\(id):\(answer.panelist.id):\(sample)", request: Data("{}".utf8),
                        response: StoredResponse(text: answer.text, latencyMs: 0), attempts: 0, fromCache: false)
                }
                let session = await archive.embeddingCache(id).prepare(analyzer, for: entry.input)
                let analysed = session.analyzer.analyze(entry.input)
                await session.keep()
                try await archive.saveAnalysis(id, report: analysed, turn: 0)
                let status: SurveyStatus = analysed.answered.isEmpty ? .failed
                    : analysed.answered.count < analysed.panelists.count ? .partial : .complete
                try await store.setStatus(surveyID: id, status)
                items.append(StoredBatch.Item(index: n, itemID: entry.id, surveyID: id))
            }
            let batch = StoredBatch(id: StoredSurvey.newID(), source: "folders",
                                    spec: BatchReporting.Spec(kind: "import", sources: folders).encoded(), items: items)
            try await store.createBatch(batch)
            let folders = items.count == 1 ? "1 folder" : "\(items.count) folders"
            FileHandle.standardError.write(Data("converge: batch \(batch.id): \(folders) imported (\(store.location))\n".utf8))
            let built = try await BatchReporting.report(batch, store: store, configuration: configuration)
            try BatchReporting.emit(built, format: report.format, output: report.output)
        }
    }
}
