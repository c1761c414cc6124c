import ConvergeCore
import Foundation
import Testing

@testable import ConvergeReport

@Suite struct JSONRendererTests {
    @Test func decodesBackToAnEqualReport() throws {
        let report = try SeniorBackend().report()
        let json = JSONRenderer.render(report)
        let decoded = try JSONDecoder().decode(Report.self, from: Data(json.utf8))
        #expect(decoded == report)

        let minimal = minimalReport()
        #expect(try JSONDecoder().decode(Report.self, from: Data(JSONRenderer.render(minimal).utf8)) == minimal)
    }

    @Test func absentValuesAreEncodedAsNull() throws {
        let json = JSONRenderer.render(minimalReport())
        #expect(json.contains("\"prompt\" : null"))
        #expect(json.contains("\"rubric\" : null"))
        #expect(json.contains("\"category\" : null"))
        #expect(json.contains("\"model\" : null"))
        #expect(json.contains("\"error\" : null"))
        #expect(json.contains("\"schemaVersion\" : 1"))
        #expect(!json.contains("\"analysis\""))
        // Top-level keys are sorted.
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(Set(object.keys) == ["schemaVersion", "prompt", "panelists", "keyPoints", "terms", "conflicts",
                                     "rubric", "omissions", "convergence"])
        let keyOrder = json.split(separator: "\n").filter { $0.hasPrefix("  \"") }
            .map { $0.dropFirst(3).prefix { $0 != "\"" } }.map(String.init)
        #expect(keyOrder == ["conflicts", "convergence", "keyPoints", "omissions", "panelists", "prompt", "rubric",
                             "schemaVersion", "terms"])
    }

    @Test func byteIdenticalAcrossRendersAndDictionaryOrder() throws {
        let report = try SeniorBackend().report()
        let first = JSONRenderer.render(report)
        #expect(first == JSONRenderer.render(report))
        #expect(first == ReportRenderer.render(report, format: .json))
        #expect(first.hasSuffix("}\n") && !first.hasSuffix("\n\n"))
        #expect(first.hasPrefix("{\n  \"analysis\" : {\n    \"blind\" : false,"))
        #expect(!first.contains("\\/"))

        // The same pairwise matrix built in another insertion order gives the same bytes.
        var reordered = report
        var pairwise: [String: [String: Double]] = [:]
        for a in SeniorBackend.panelIds.reversed() {
            for b in SeniorBackend.panelIds.reversed() { pairwise[a, default: [:]][b] = report.convergence.pairwise[a]![b]! }
        }
        reordered.convergence.pairwise = pairwise
        #expect(JSONRenderer.render(reordered) == first)
    }

    @Test func slashesAreNotEscaped() {
        var report = minimalReport()
        report.panelists[0].model = "openrouter/meta-llama/llama-3.3-70b-instruct"
        #expect(JSONRenderer.render(report).contains("\"model\" : \"openrouter/meta-llama/llama-3.3-70b-instruct\""))
    }

    @Test func nonFiniteNumbersStillGiveValidJSON() throws {
        var report = minimalReport()
        report.convergence.index = .nan
        report.convergence.pairwise["p1"]!["p2"] = .infinity
        #expect(throws: EncodingError.self) { try JSONRenderer.encode(report) }
        let json = JSONRenderer.render(report)
        let decoded = try JSONDecoder().decode(Report.self, from: Data(json.utf8))
        #expect(decoded.convergence.index == 0)
        #expect(decoded.convergence.pairwise["p1"]!["p2"] == 0)
    }

    // MARK: - Schema and quote contract (python3 scripts/check-report.py)

    @Test func realisticReportValidatesAndEveryQuoteIsExact() throws {
        let report = try SeniorBackend().report()
        let result = try checkReport(JSONRenderer.render(report))
        #expect(result.status == 0, "\(result.output)")
        let quotes = report.keyPoints.flatMap(\.evidence).count + report.terms.flatMap(\.evidence).count
            + report.conflicts.flatMap(\.values).count + report.rubric!.items.flatMap(\.evidence).count
        #expect(result.output.contains("ok: \(quotes) quotes checked"), "\(result.output)")
    }

    @Test func minimalReportValidates() throws {
        let result = try checkReport(JSONRenderer.render(minimalReport(answered: 1, failed: 1)), answers: [])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("ok: 0 quotes checked"))
    }

    /// The report as a mutable JSON object.
    func object(_ report: Report) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(JSONRenderer.render(report).utf8)) as? [String: Any])
    }

    func text(_ object: [String: Any]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
    }

    @Test func wrongConsensusValueIsRejected() throws {
        var json = try object(SeniorBackend().report())
        var keyPoints = json["keyPoints"] as! [[String: Any]]
        keyPoints[0]["consensus"] = "mostly"
        json["keyPoints"] = keyPoints
        let result = try checkReport(text(json))
        #expect(result.status != 0)
        #expect(result.output.contains("keyPoints[0].consensus"), "\(result.output)")
    }

    @Test func missingKeyIsRejected() throws {
        var json = try object(SeniorBackend().report())
        var keyPoints = json["keyPoints"] as! [[String: Any]]
        keyPoints[1].removeValue(forKey: "support")
        json["keyPoints"] = keyPoints
        var result = try checkReport(text(json))
        #expect(result.status != 0)
        #expect(result.output.contains("'support' is a required property"), "\(result.output)")

        json = try object(SeniorBackend().report())
        json.removeValue(forKey: "prompt")
        result = try checkReport(text(json))
        #expect(result.status != 0)
        #expect(result.output.contains("'prompt' is a required property"), "\(result.output)")
    }

    @Test func strictTypesAreEnforced() throws {
        let mutations: [(inout [String: Any]) -> Void] = [
            { json in json["convergence"] = ["index": 1.5, "pairwise": [String: Any]()] as [String: Any] },
            { json in json["schemaVersion"] = 2 },
            { json in
                var terms = json["terms"] as! [[String: Any]]
                terms[0]["kind"] = "language"
                json["terms"] = terms
            },
            { json in
                var panelists = json["panelists"] as! [[String: Any]]
                panelists[0]["status"] = "ok"
                json["panelists"] = panelists
            },
            { json in
                var keyPoints = json["keyPoints"] as! [[String: Any]]
                var evidence = keyPoints[0]["evidence"] as! [[String: Any]]
                evidence[0]["start"] = -1
                keyPoints[0]["evidence"] = evidence
                json["keyPoints"] = keyPoints
            },
        ]
        for mutate in mutations {
            var json = try object(SeniorBackend().report())
            mutate(&json)
            let result = try checkReport(text(json), answers: [])
            #expect(result.status != 0, "\(result.output)")
        }
    }

    @Test func additiveFieldsAreAllowed() throws {
        var json = try object(SeniorBackend().report())
        json["generatedBy"] = "a later version"
        let result = try checkReport(text(json))
        #expect(result.status == 0, "\(result.output)")
    }

    @Test func inexactQuoteIsRejected() throws {
        var report = try SeniorBackend().report()
        report.keyPoints[0].evidence[0].start += 1
        var result = try checkReport(JSONRenderer.render(report))
        #expect(result.status == 1)
        #expect(result.output.contains("$.keyPoints[0].evidence[0]"), "\(result.output)")

        report = try SeniorBackend().report()
        report.conflicts[0].values[1].quote = "5-8 years of experience"
        result = try checkReport(JSONRenderer.render(report))
        #expect(result.status == 1)
        #expect(result.output.contains("$.conflicts[0].values[1]"), "\(result.output)")
    }
}
