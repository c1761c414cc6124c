import ConvergeAnalysis
import ConvergeCore

extension SurveyResult {
    /// The analysis of the last turn, as `converge analyze` would make it from the answers, plus every turn's
    /// prompt and responses (`Report.turns`) and the panelists that did not answer the last turn (status
    /// `failed`, with the cause of their first failed sample).
    ///
    /// - Parameters:
    ///   - analyzer: the analysis settings (similarity model, blind labels).
    ///   - rubric: checked against the last turn's answers.
    public func report(analyzer: Analyzer = Analyzer(), rubric: Rubric? = nil) -> Report {
        var report = Analyzer(similarity: analyzer.similarity).analyze(analysisInput(rubric: rubric))
        report.turns = turns.map { turn in
            Report.Turn(index: turn.index, prompt: turn.prompt, responses: turn.panelists.flatMap { entry in
                entry.samples.enumerated().map { sample, outcome in
                    switch outcome {
                    case .answered(let r, _):
                        return Report.Response(panelist: entry.panelist.id, sample: sample, status: .answered,
                                               text: r.text, latencyMs: Double(r.latencyMs),
                                               inputTokens: r.inputTokens, outputTokens: r.outputTokens,
                                               finishReason: r.finishReason, requestId: r.requestID)
                    case .failed(let failure):
                        return Report.Response(panelist: entry.panelist.id, sample: sample, status: .failed,
                                               error: failure.cause)
                    }
                }
            })
        }
        return analyzer.blind ? report.blinded() : report
    }

    /// What the last turn's analysis reads: its prompt, every answered sample, the rubric, the panel and why
    /// each panelist that did not answer failed (also what a judge is shown).
    public func analysisInput(rubric: Rubric? = nil) -> AnalysisInput {
        let last = turns.last
        var answers: [Answer] = []
        var failures: [String: String] = [:]
        for entry in last?.panelists ?? [] {
            let answered = entry.samples.compactMap(\.response)
            let failed = entry.samples.compactMap(\.failure)
            if answered.isEmpty {
                failures[entry.panelist.id] = failed.first?.cause ?? "no answer"
            } else if let first = failed.first {
                failures[entry.panelist.id] = "\(failed.count) of \(entry.samples.count) samples failed: \(first.cause)"
            }
            answers += answered.map { Answer(panelist: entry.panelist, text: $0.text) }
        }
        // An imported survey without prompt.md has a turn without a prompt: analysed as `analyze` does, with none.
        let prompt = last?.prompt ?? survey.prompt
        var input = AnalysisInput(prompt: prompt.isEmpty ? nil : prompt, answers: answers, rubric: rubric,
                                  panel: panelists, failures: failures)
        input.samplesPerPanelist = samples
        return input
    }
}
