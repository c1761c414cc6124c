import ConvergeAnalysis
import ConvergeCore
import ConvergeProviders
import ConvergeStore
import Foundation

/// Stored surveys as the runner sees them: create one before asking, rebuild a ``SurveyResult`` from the
/// store (resume, follow-up, reanalyze, export), and record how a run ended with its analysis.
public struct SurveyArchive: Sendable {
    public let store: any SurveyStore

    public init(store: any SurveyStore) {
        self.store = store
    }

    /// Stores a new survey (status `running`) with its turns and spec, before any request is sent.
    /// - Returns: the new survey's id.
    public func create(_ survey: Survey, spec: SurveySpec) async throws -> String {
        let id = StoredSurvey.newID()
        try await store.createSurvey(StoredSurvey(id: id, prompt: survey.prompt, panelSize: spec.panel.count,
                                                  spec: spec.encoded()), turns: survey.turns)
        return id
    }

    /// A stored survey with its spec and turns.
    public struct Loaded: Sendable {
        public var record: StoredSurvey
        public var spec: SurveySpec
        public var turns: [StoredTurn]
        public var requests: [StoredRequest]

        /// The survey as the runner asks it (every stored turn).
        public var survey: Survey {
            var survey = Survey(prompt: turns.first?.prompt ?? record.prompt, system: spec.system)
            survey.turns = turns.map(\.prompt)
            return survey
        }
    }

    /// Loads a survey by id or unique id prefix.
    /// - Throws: ``StoreError/notFound(_:)``, ``StoreError/ambiguous(_:matches:)``, `InputError` for a spec
    ///   that cannot be read.
    public func load(_ id: String) async throws -> Loaded {
        let record = try await store.survey(id: id)
        let spec = try SurveySpec.decode(record.spec, surveyID: record.id)
        return Loaded(record: record, spec: spec, turns: try await store.turns(surveyID: record.id),
                      requests: try await store.requests(surveyID: record.id))
    }

    /// What the store holds, as a run's result: per turn, panelist and sample the stored answer, the stored
    /// failure, or (for a request never answered) a failure saying so.
    public static func result(of loaded: Loaded) -> SurveyResult {
        var rows: [StoredRequestKey: StoredRequest] = [:]
        for row in loaded.requests { rows[row.key] = row }
        let panelists = loaded.spec.panelists
        let samples = loaded.spec.samples
        let turns = loaded.turns.map { turn in
            TurnResult(index: turn.index, prompt: turn.prompt, panelists: panelists.map { panelist in
                PanelistTurnResult(panelist: panelist, samples: (0..<samples).map { sample in
                    let row = rows[StoredRequestKey(turn: turn.index, panelistID: panelist.id, sample: sample)]
                    switch row?.state {
                    case .answered:
                        if let response = row?.response { return .answered(ChatResponse(response), attempts: row!.attempts) }
                        fallthrough
                    case .failed:
                        return .failed(SampleFailure(cause: row?.error ?? "failed", error: nil, attempts: row?.attempts ?? 0))
                    case .pending, nil:
                        return .failed(SampleFailure(
                            cause: "not answered yet (`converge surveys resume \(loaded.record.id)` asks it)",
                            error: nil, attempts: 0))
                    }
                })
            })
        }
        return SurveyResult(survey: loaded.survey, panelists: panelists, samples: samples, turns: turns,
                            cancelled: false)
    }

    /// The status a finished run leaves.
    public static func status(of result: SurveyResult) -> SurveyStatus {
        if result.cancelled { return .interrupted }
        if result.allAnswered { return .complete }
        return result.answerCount == 0 ? .failed : .partial
    }

    /// Analyses `result` (its sentence vectors through the survey's embedding cache, `StoreEmbeddingCache`),
    /// stores the analysis (report JSON with the engine that made it) and the survey's status, and returns the
    /// report (not blinded; blind is a rendering choice). Each write waits for a store that is unreachable or
    /// whose disk is full, as the journal's do (``StoreJournal``): a survey must not stay `running` for a write
    /// that failed in passing.
    public func finish(_ id: String, result: SurveyResult, rubric: Rubric?, analyzer: Analyzer = Analyzer())
        async throws -> Report {
        let session = await embeddingCache(id).prepare(analyzer, for: result.analysisInput(rubric: rubric))
        let analyzer = session.analyzer
        let report = await offCooperativePool { result.report(analyzer: analyzer, rubric: rubric) }
        await session.keep()
        try await StoreJournal.persisting { try await saveAnalysis(id, report: report, turn: max(0, result.turns.count - 1)) }
        try await StoreJournal.persisting { try await store.setStatus(surveyID: id, Self.status(of: result)) }
        return report
    }

    /// The stored answers of `loaded` analysed again with `analyzer` (not stored), their sentence vectors read
    /// through the survey's embedding cache; call the session's `keep()` when done with its analyzer (a judge's
    /// check may use it too).
    public func reanalyse(_ loaded: Loaded, rubric: Rubric?, analyzer: Analyzer) async
        -> (report: Report, session: StoreEmbeddingCache.Session) {
        let result = Self.result(of: loaded)
        let session = await embeddingCache(loaded.record.id).prepare(analyzer, for: result.analysisInput(rubric: rubric))
        let analyzer = session.analyzer
        return (await offCooperativePool { result.report(analyzer: analyzer, rubric: rubric) }, session)
    }

    /// The embedding cache of survey `id` in this archive's store.
    public func embeddingCache(_ id: String) -> StoreEmbeddingCache { StoreEmbeddingCache(store: store, surveyID: id) }

    /// Stores `report` as the survey's newest analysis.
    public func saveAnalysis(_ id: String, report: Report, turn: Int) async throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(report)
        let engine = "converge \(ConvergeVersion.current); similarity \(report.analysis?.similarity ?? "lexical")"
        try await store.saveAnalysis(StoredAnalysis(surveyID: id, turn: turn, engine: engine, report: data))
    }

    /// The newest stored report of a survey, if it has one.
    public func latestReport(_ id: String) async throws -> Report? {
        guard let analysis = try await store.latestAnalysis(surveyID: id) else { return nil }
        return try? JSONDecoder().decode(Report.self, from: analysis.report)
    }
}
