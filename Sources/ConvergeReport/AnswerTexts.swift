import ConvergeCore

/// The answer texts a report quotes, as Unicode scalars, by panelist id and sample: what the HTML report
/// shows around quotes and in full.
///
/// They come from the last of `Report.turns` (the analysed turn): for each panelist, its answered responses
/// in sample order, so that the k-th one is the answer that evidence with `sample == k` (or `nil` for 0)
/// points into. A report without `turns` (JSON from `converge analyze`) has no answer texts; attach them
/// with `Report.attachingAnswers(_:)`.
struct AnswerTexts {
    private var texts: [String: [[Unicode.Scalar]]] = [:]

    init(_ report: Report) {
        guard let turn = report.turns?.last else { return }
        let answered = turn.responses.enumerated()
            .filter { $0.element.status == .answered && $0.element.text != nil }
            .sorted { ($0.element.sample, $0.offset) < ($1.element.sample, $1.offset) }
            .map(\.element)
        for response in answered {
            texts[response.panelist, default: []].append(Array(response.text!.unicodeScalars))
        }
    }

    var isEmpty: Bool { texts.isEmpty }

    /// The answer of `panelist` that evidence of `sample` points into, or `nil` when the report lacks it.
    func scalars(_ panelist: String, sample: Int?) -> [Unicode.Scalar]? {
        guard let samples = texts[panelist] else { return nil }
        let k = sample ?? 0
        return samples.indices.contains(k) ? samples[k] : nil
    }

    /// How many answers of `panelist` the report holds (more than one with repeat sampling).
    func count(_ panelist: String) -> Int { texts[panelist]?.count ?? 0 }

    /// Whether `quote` is exactly the scalars `start..<end` of the answer (the report contract); spans that
    /// are not are shown as bare quotes and never highlighted.
    func holds(_ panelist: String, sample: Int?, start: Int, end: Int, quote: String) -> Bool {
        guard let text = scalars(panelist, sample: sample), 0 <= start, start < end, end <= text.count else {
            return false
        }
        return text[start..<end].elementsEqual(quote.unicodeScalars)
    }
}

extension Report {
    /// The report with `answers` attached as its one turn (`turns`, index 0, the report's prompt), so that
    /// the HTML report can show quotes in context and the answers in full. Answers of the same panelist are
    /// its samples, in order (as `Analyzer` numbers them). A report that already has turns is returned as is.
    ///
    /// Attach before `blinded()`, which relabels the turns' panelists with everything else.
    public func attachingAnswers(_ answers: [Answer]) -> Report {
        guard turns == nil else { return self }
        var report = self
        var samples: [String: Int] = [:]
        report.turns = [Turn(index: 0, prompt: prompt ?? "", responses: answers.map { answer in
            let id = answer.panelist.id
            defer { samples[id, default: 0] += 1 }
            return Response(panelist: id, sample: samples[id] ?? 0, status: .answered, text: answer.text)
        })]
        return report
    }
}
