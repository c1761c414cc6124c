import ConvergeCore

extension BatchReport {
    /// The batch report of `entries`, a pure function of them and `prices`.
    ///
    /// - Parameters:
    ///   - batch: the stored batch's id, if any.
    ///   - entries: the surveys in batch order; panelists are matched by id and listed in order of first appearance.
    ///   - prices: per model (the panelist's `model`, `provider/model`), US dollars per million tokens.
    public init(batch: String?, entries: [Entry], prices: [String: Price] = [:]) {
        var order: [String] = []
        var totals: [String: Totals] = [:]
        var agreementSums: [String: [String: (sum: Double, count: Int)]] = [:]
        var items: [Item] = []
        var convergenceSum = 0.0, reported = 0

        for entry in entries {
            guard let report = entry.report else {
                items.append(Item(id: entry.itemID, survey: entry.surveyID, prompt: nil, convergence: nil, panelSize: 0,
                                  answered: 0, outlier: nil, keyPoints: 0))
                continue
            }
            reported += 1
            convergenceSum += report.convergence.index
            let answered = report.answered.map(\.id)
            let outlier = Self.outlier(report.convergence.pairwise, answered: answered)
            for panelist in report.panelists {
                if totals[panelist.id] == nil {
                    order.append(panelist.id)
                    totals[panelist.id] = Totals(label: panelist.label, model: panelist.model)
                }
                totals[panelist.id]!.add(panelist, report: report, outlier: outlier, answeredCount: answered.count)
            }
            for a in answered {
                for b in answered {
                    guard let value = report.convergence.pairwise[a]?[b] else { continue }
                    agreementSums[a, default: [:]][b, default: (0, 0)].sum += value
                    agreementSums[a, default: [:]][b, default: (0, 0)].count += 1
                }
            }
            items.append(Item(id: entry.itemID, survey: entry.surveyID, prompt: report.prompt,
                              convergence: report.convergence.index, panelSize: report.panelists.count,
                              answered: answered.count, outlier: outlier, keyPoints: report.keyPoints.count))
        }

        self.schemaVersion = Self.schemaVersion
        self.batch = batch
        self.panelists = order.map { id in totals[id]!.panelist(id: id, price: totals[id]!.model.flatMap { prices[$0] }) }
        self.agreement = agreementSums.mapValues { row in row.mapValues { Self.rounded($0.sum / Double($0.count)) } }
        self.meanConvergence = reported == 0 ? nil : Self.rounded(convergenceSum / Double(reported))
        // Lowest convergence first; ties and prompts without a report keep batch order (a stable sort).
        self.items = items.enumerated().sorted { a, b in
            switch (a.element.convergence, b.element.convergence) {
            case let (x?, y?): return x != y ? x < y : a.offset < b.offset
            case (.some, nil): return true
            case (nil, .some): return false
            case (nil, nil): return a.offset < b.offset
            }
        }.map(\.element)
    }

    /// The answering panelist whose mean agreement with the other answering panelists is strictly the lowest,
    /// among at least 3 (with 2, both are equally far apart).
    static func outlier(_ pairwise: [String: [String: Double]], answered: [String]) -> String? {
        guard answered.count >= 3 else { return nil }
        let means = answered.map { a in
            (a, answered.filter { $0 != a }.map { pairwise[a]?[$0] ?? 0 }.reduce(0, +) / Double(answered.count - 1))
        }
        let sorted = means.sorted { $0.1 < $1.1 }
        return sorted[0].1 < sorted[1].1 ? sorted[0].0 : nil
    }

    static func rounded(_ value: Double) -> Double { (value * 10_000).rounded() / 10_000 }

    /// The nearest-rank percentile `p` (0...100) of sorted values.
    static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }

    /// One panelist's sums while the entries are read.
    struct Totals {
        var label: String
        var model: String?
        var prompts = 0, answered = 0, failed = 0
        var keyPoints = 0, shared = 0, unique = 0
        var outlier = 0, outlierEligible = 0
        var rubricItems = 0, missed = 0, judged = 0, blindSpots = 0
        var latencies: [Double] = []
        var inputTokens: Int?, outputTokens: Int?

        mutating func add(_ panelist: Report.PanelistEntry, report: Report, outlier: String?, answeredCount: Int) {
            prompts += 1
            guard panelist.status == .answered else {
                failed += 1
                return
            }
            answered += 1
            for point in report.keyPoints where point.support.contains(panelist.id) {
                keyPoints += 1
                if Set(point.support).count > 1 { shared += 1 } else { unique += 1 }
            }
            if answeredCount >= 3 {
                outlierEligible += 1
                if outlier == panelist.id { self.outlier += 1 }
            }
            if let rubric = report.rubric, !rubric.items.isEmpty {
                rubricItems += rubric.items.count
                missed += rubric.items.filter { !$0.support.contains(panelist.id) }.count
            }
            if let judge = report.judge, judge.status == .verified {
                judged += 1
                blindSpots += judge.blindSpots.count
            }
            for response in (report.turns ?? []).flatMap(\.responses) where response.panelist == panelist.id {
                if let latency = response.latencyMs { latencies.append(latency) }
                if let tokens = response.inputTokens { inputTokens = (inputTokens ?? 0) + tokens }
                if let tokens = response.outputTokens { outputTokens = (outputTokens ?? 0) + tokens }
            }
        }

        func panelist(id: String, price: Price?) -> Panelist {
            let sortedLatencies = latencies.sorted()
            var cost: Double?
            if let price, inputTokens != nil || outputTokens != nil {
                let dollars = (Double(inputTokens ?? 0) * price.inputPerMillion
                               + Double(outputTokens ?? 0) * price.outputPerMillion) / 1_000_000
                cost = (dollars * 1_000_000).rounded() / 1_000_000
            }
            return Panelist(
                id: id, label: label, model: model, prompts: prompts, answered: answered,
                failureRate: prompts == 0 ? 0 : BatchReport.rounded(Double(failed) / Double(prompts)), keyPoints: keyPoints,
                sharedShare: keyPoints == 0 ? nil : BatchReport.rounded(Double(shared) / Double(keyPoints)),
                uniqueShare: keyPoints == 0 ? nil : BatchReport.rounded(Double(unique) / Double(keyPoints)),
                outlier: outlier, outlierRate: outlierEligible == 0 ? nil : BatchReport.rounded(Double(outlier) / Double(outlierEligible)),
                omissions: rubricItems == 0 && judged == 0 ? nil
                    : Omissions(items: rubricItems, missed: missed,
                                rate: rubricItems == 0 ? nil : BatchReport.rounded(Double(missed) / Double(rubricItems)),
                                judgeBlindSpots: blindSpots),
                latencyMs: sortedLatencies.isEmpty ? nil
                    : Latency(p50: BatchReport.percentile(sortedLatencies, 50), p95: BatchReport.percentile(sortedLatencies, 95),
                              count: sortedLatencies.count),
                inputTokens: inputTokens, outputTokens: outputTokens, costUSD: cost)
        }
    }
}
