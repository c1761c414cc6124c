import ConvergeAnalysis
import ConvergeCore
import ConvergeReport
import Foundation
import Testing

/// The batch report's figures on hand-made reports whose answers are known, and its renderings.
@Suite struct BatchReportTests {
    /// A report in which each panelist supports the key points given (`supports[panelist] = [point ids]`);
    /// the convergence comes from the real ConvergenceIndex.
    static func report(_ prompt: String, _ supports: [String: [String]], failed: [String] = [],
                       rubric: [String: [String]]? = nil, latency: [String: Double] = [:]) -> Report {
        let ids = ["a", "b", "c", "d"].filter { supports[$0] != nil || failed.contains($0) }
        let points = Set(supports.values.flatMap { $0 }).sorted().map { point in
            let support = ids.filter { supports[$0]?.contains(point) == true }
            return Report.KeyPoint(id: point, label: point, category: nil, support: support,
                                   consensus: ConsensusLevel(support: support.count, panelSize: supports.count), evidence: [])
        }
        let answered = ids.filter { supports[$0] != nil }
        var report = Report(
            prompt: prompt,
            panelists: ids.map { Report.PanelistEntry(id: $0, label: $0.uppercased(), model: "openai/\($0)",
                                                      status: failed.contains($0) ? .failed : .answered) },
            keyPoints: points, terms: [], conflicts: [],
            rubric: rubric.map { items in
                Report.RubricCoverage(title: "r", items: items.sorted { $0.key < $1.key }.map {
                    Report.RubricItemCoverage(id: $0.key, category: "c", text: $0.key, support: $0.value, evidence: [])
                })
            },
            omissions: [], convergence: ConvergenceIndex.compute(keyPoints: points, panelists: answered), analysis: nil)
        report.turns = [Report.Turn(index: 0, prompt: prompt, responses: ids.map { id in
            Report.Response(panelist: id, sample: 0, status: failed.contains(id) ? .failed : .answered,
                            latencyMs: latency[id], inputTokens: failed.contains(id) ? nil : 100,
                            outputTokens: failed.contains(id) ? nil : 1000)
        })]
        return report
    }

    static func judged(_ report: Report) -> Report {
        var report = report
        report.judge = Report.Judge(model: "openai/judge", status: .verified, onPanel: false, attempts: 1,
                                    blindSpots: [.init(text: "Security", item: "judge-1"), .init(text: "Cost", item: "judge-2")])
        return report
    }

    static let entries: [BatchReport.Entry] = [
        // c agrees with nobody: the outlier.
        .init(itemID: "p1", surveyID: "s1", report: report("one", ["a": ["x", "y"], "b": ["x", "y"], "c": ["z"]],
                                                            latency: ["a": 100, "b": 300, "c": 500])),
        // c again, and a rubric item only a covers.
        .init(itemID: "p2", surveyID: "s2", report: report("two", ["a": ["x", "w"], "b": ["x"], "c": ["v"]],
                                                            rubric: ["r1": ["a"], "r2": ["a", "b", "c"]],
                                                            latency: ["a": 200, "b": 400, "c": 600])),
        // c fails; with two answering there is no outlier. A judge found two points nobody made.
        .init(itemID: "p3", surveyID: "s3", report: judged(report("three", ["a": ["x"], "b": ["x"]], failed: ["c"]))),
        // Not analysed yet.
        .init(itemID: "p4", surveyID: "s4", report: nil),
    ]

    @Test func figuresPerPanelistAcrossPrompts() throws {
        let batch = BatchReport(batch: "b1", entries: Self.entries,
                                prices: ["openai/a": .init(inputPerMillion: 1, outputPerMillion: 10)])
        let byID = Dictionary(uniqueKeysWithValues: batch.panelists.map { ($0.id, $0) })
        let a = try #require(byID["a"]), b = try #require(byID["b"]), c = try #require(byID["c"])
        #expect(batch.panelists.map(\.id) == ["a", "b", "c"])

        #expect(c.outlier == 2 && c.outlierRate == 1 && a.outlier == 0 && a.outlierRate == 0)
        #expect(c.failureRate == 0.3333 && c.prompts == 3 && c.answered == 2 && a.failureRate == 0)
        // a: x y (shared), x w (x shared, w unique), x (shared): 4 of 5 shared.
        #expect(a.keyPoints == 5 && a.sharedShare == 0.8 && a.uniqueShare == 0.2)
        #expect(c.sharedShare == 0 && c.uniqueShare == 1)
        // Rubric on p2 only: a covers both, b and c miss r1.
        #expect(a.omissions?.items == 2 && a.omissions?.missed == 0 && a.omissions?.rate == 0)
        #expect(c.omissions?.items == 2 && c.omissions?.missed == 1 && c.omissions?.rate == 0.5)
        // The judge's blind spots count for those that answered p3 (c failed it).
        #expect(a.omissions?.judgeBlindSpots == 2 && c.omissions?.judgeBlindSpots == 0)
        let judgedOnly = BatchReport(batch: nil, entries: [Self.entries[2]]).panelists[0].omissions
        #expect(judgedOnly?.items == 0 && judgedOnly?.rate == nil && judgedOnly?.judgeBlindSpots == 2)
        #expect(a.latencyMs?.p50 == 100 && a.latencyMs?.p95 == 200 && a.latencyMs?.count == 2)
        #expect(byID["b"]?.latencyMs?.p95 == 400)
        // a: 3 answers of 100 in / 1000 out at $1 / $10 per million.
        #expect(a.inputTokens == 300 && a.outputTokens == 3000 && a.costUSD == 0.0303)
        #expect(b.costUSD == nil)  // no price: unknown
        #expect(c.inputTokens == 200)

        // Agreement averaged over the prompts both answered: a-b is 1 (p1), 0.5 (p2), 1 (p3).
        #expect(batch.agreement["a"]?["b"] == 0.8333)
        #expect(batch.agreement["a"]?["c"] == 0)
        #expect(batch.agreement["c"]?["c"] == 1)

        // Lowest convergence first, the unanalysed prompt last.
        #expect(batch.items.map(\.id) == ["p2", "p1", "p3", "p4"])
        #expect(batch.items[0].outlier == "c" && batch.items[2].outlier == nil)
        #expect(batch.items.last?.convergence == nil)
    }

    @Test func rendersJSONMarkdownCSVAndHTML() throws {
        let batch = BatchReport(batch: "b1", entries: Self.entries)
        let json = BatchReportRenderer.render(batch, format: .json)
        let decoded = try JSONDecoder().decode(BatchReport.self, from: Data(json.utf8))
        #expect(decoded == batch)
        #expect(BatchReportRenderer.render(BatchReport(batch: "b1", entries: Self.entries), format: .json) == json)

        let markdown = BatchReportRenderer.render(batch, format: .md)
        #expect(markdown.contains("| C | openai/c | 2/3 | 33% |"))
        #expect(markdown.contains("| 0% (0/2); 2 judge blind spots |"))
        #expect(markdown.contains("[s2](surveys/p2.md)"))
        #expect(markdown.contains("unknown"))  // b's cost
        let rows = markdown.components(separatedBy: "\n")
        #expect(rows.firstIndex { $0.contains("[s2]") }! < rows.firstIndex { $0.contains("[s1]") }!)

        let csv = BatchReportRenderer.render(batch, format: .csv)
        let lines = csv.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        #expect(lines.count == 4 && lines[0].hasPrefix("panelist,label,model,prompts"))
        #expect(lines[3].hasPrefix("c,C,openai/c,3,2,0.3333,"))
        #expect(lines[1].hasSuffix(",unknown"))

        let html = BatchReportRenderer.render(batch, format: .html)
        #expect(html.hasPrefix("<!doctype html>") && !html.contains("<script"))
        #expect(html.contains("<a href=\"surveys/p2.html\">s2</a>") && html.contains("<td class=\"text\">C</td>"))
        // Text from a batch file is escaped.
        var hostile = batch
        hostile.items[0].prompt = "<img src=x onerror=alert(1)> | ]("
        #expect(!BatchReportRenderer.render(hostile, format: .html).contains("<img"))
        #expect(BatchReportRenderer.render(hostile, format: .md).contains("\\<img"))
    }
}
