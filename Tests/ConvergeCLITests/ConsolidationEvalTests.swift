import Foundation
import Testing

/// `converge-eval consolidation` through the real binary, against the shared scorer it reimplements
/// (`../shared/tools/consolidation-score`, run with python3) on the consolidation golds of
/// `../shared/corpus/consolidation` (read in place, never copied into the repository).
@Suite(.serialized) struct ConsolidationEvalTests {
    static let binary = EvalCommandTests.binary
    /// `../shared/corpus` beside the repository (or `$CONVERGE_CORPUS`).
    static let corpus: URL = {
        if let env = ProcessInfo.processInfo.environment["CONVERGE_CORPUS"] { return URL(fileURLWithPath: env) }
        return CLI.repo.deletingLastPathComponent().appendingPathComponent("shared/corpus")
    }()
    static let script = corpus.deletingLastPathComponent().appendingPathComponent("tools/consolidation-score")
    /// The gold folders (subfolders of corpus/consolidation holding gold.json), sorted.
    static func goldFolders() throws -> [String] {
        let root = corpus.appendingPathComponent("consolidation")
        return try FileManager.default.contentsOfDirectory(atPath: root.path).sorted()
            .map { root.appendingPathComponent($0).path }
            .filter { FileManager.default.fileExists(atPath: $0 + "/gold.json") }
    }

    static func run(_ executable: URL, _ arguments: [String], environment: [String: String] = CLI.isolatedEnvironment)
        throws -> CLI.Result {
        try CLI.run(arguments, environment: environment, executable: executable)
    }

    /// The shared script on one report: its `--json` scores, and its `-v` text output.
    static func script(_ report: String, _ folder: String) throws -> (json: [String: Any], text: String) {
        let python = URL(fileURLWithPath: "/usr/bin/env")
        let gold = folder + "/gold.json"
        let json = try run(python, ["python3", script.path, report, gold, folder, "--json"])
        #expect(json.status == 0, "\(json.stderr)")
        let text = try run(python, ["python3", script.path, report, gold, folder, "-v"])
        #expect(text.status == 0, "\(text.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any] ?? [:]
        return (object, text.stdout)
    }

    static let measures = ["precision", "recall", "f1", "conv_recall", "conv_exact", "false_conv", "filler", "ratio"]
    static let counts = ["report_kps", "gold_kps", "gold_convergent", "quotes_exact", "quotes"]

    /// Every measure of `swift` equals the script's to 3 decimals (and within 1e-9), every count exactly.
    static func expectAgreement(_ swift: [String: Any], _ python: [String: Any], _ place: String) {
        for key in measures {
            let a = (swift[key] as? NSNumber)?.doubleValue, b = (python[key] as? NSNumber)?.doubleValue
            #expect(a != nil && b != nil, "\(place): \(key) missing")
            guard let a, let b else { continue }
            #expect(String(format: "%.3f", a) == String(format: "%.3f", b) && abs(a - b) < 1e-9,
                    "\(place): \(key) \(a) (Swift) vs \(b) (script)")
        }
        for key in counts {
            #expect((swift[key] as? NSNumber)?.intValue == (python[key] as? NSNumber)?.intValue,
                    "\(place): \(key) \(swift[key] ?? "nil") (Swift) vs \(python[key] ?? "nil") (script)")
        }
    }

    /// Analyses every gold folder with `similarity`, writes the reports, and checks the figures the command
    /// printed for each against the script on the written report; then `--report` on the same file must print
    /// exactly what the script prints (with `-v`), and a gold read as a report (the script's human-agreement
    /// mode) must score the same in both.
    func checkAgreement(similarity: String, environment: [String: String]) throws {
        let folders = try Self.goldFolders()
        #expect(folders.count >= 7, "consolidation golds missing under \(Self.corpus.path)")
        let reports = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: reports) }
        let result = try Self.run(Self.binary, ["consolidation"] + folders
                                  + ["--similarity", similarity, "--report-dir", reports.path, "--format", "json"],
                                  environment: environment)
        #expect(result.status == 0, "\(result.stderr)")
        let output = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] ?? [:]
        #expect(output["similarity"] as? String == similarity)
        let entries = output["folders"] as? [[String: Any]] ?? []
        #expect(entries.count == folders.count)
        var f1s: [Double] = []
        for (folder, entry) in zip(folders, entries) {
            let name = URL(fileURLWithPath: folder).lastPathComponent
            let report = reports.appendingPathComponent(name + ".json").path
            #expect(entry["report"] as? String == report)
            let score = entry["score"] as? [String: Any] ?? [:]
            f1s.append((score["f1"] as? NSNumber)?.doubleValue ?? .nan)
            let python = try Self.script(report, folder)
            Self.expectAgreement(score, python.json, "\(similarity) \(name)")
            let text = try Self.run(Self.binary, ["consolidation", folder, "--report", report, "-v"])
            #expect(text.status == 0, "\(text.stderr)")
            #expect(text.stdout == python.text, "\(similarity) \(name): --report -v differs from the script")
        }
        let mean = (output["mean"] as? [String: Any])?["f1"] as? NSNumber
        #expect(abs((mean?.doubleValue ?? .nan) - f1s.reduce(0, +) / Double(f1s.count)) < 1e-12)
    }

    @Test func lexicalFiguresAgreeWithTheSharedScriptOnEveryFolder() throws {
        try checkAgreement(similarity: "lexical", environment: CLI.isolatedEnvironment)
    }

    @Test func hybridFiguresAgreeWithTheSharedScriptOnEveryFolder() throws {
        try checkAgreement(similarity: "hybrid", environment: CLI.installedModelEnvironment)
    }

    /// `--pairs`: senior-backend's statement pairs with the gold point each statement counts for. Read from the
    /// gold: ai-1's "mentorship" and ai-2's "mentoring junior developers" both count for `mentoring`, so such a
    /// pair is there, with a similarity in [0, 1]; lexical matching has no matcher evidence and is refused.
    @Test(.enabled(if: SimilarityCommandTests.available, "SKIPPED LOUDLY: all-MiniLM-L6-v2 is not installed (scripts/test installs it)"))
    func pairsCarryTheGoldPointOfEachStatement() throws {
        let folder = Self.corpus.appendingPathComponent("consolidation/senior-backend").path
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("pairs-\(UUID().uuidString).json")
        let result = try Self.run(Self.binary, ["consolidation", folder, "--similarity", "hybrid", "--pairs", out.path],
                                  environment: CLI.installedModelEnvironment)
        #expect(result.status == 0, "\(result.stderr)")
        struct Statement: Decodable { var panelist: String; var start: Int; var end: Int; var gold: String? }
        struct Pair: Decodable { var a: Int; var b: Int; var ab: [Double]; var ba: [Double]; var score: Double }
        struct Folder: Decodable { var folder: String; var statements: [Statement]; var pairs: [Pair] }
        let folders = try JSONDecoder().decode([Folder].self, from: Data(contentsOf: out))
        let senior = try #require(folders.first)
        #expect(folders.count == 1 && senior.folder == "senior-backend")
        for s in senior.statements {
            let answer = try String(contentsOfFile: folder + "/\(s.panelist).md", encoding: .utf8)
            #expect(s.start >= 0 && s.start < s.end && s.end <= answer.unicodeScalars.count, "\(s)")
        }
        let mentoring = senior.pairs.filter { senior.statements[$0.a].gold == "mentoring" && senior.statements[$0.b].gold == "mentoring" }
        #expect(mentoring.contains { Set([senior.statements[$0.a].panelist, senior.statements[$0.b].panelist]) == ["ai-1", "ai-2"] })
        #expect(senior.pairs.allSatisfy { $0.score >= 0 && $0.score <= 1 && $0.ab.count == 5 && $0.ba.count == 5 })
        #expect(senior.pairs.allSatisfy { senior.statements[$0.a].panelist != senior.statements[$0.b].panelist })
        let lexical = try Self.run(Self.binary, ["consolidation", folder, "--similarity", "lexical", "--pairs", out.path])
        #expect(lexical.status == 2)
        #expect(lexical.stderr.contains("--pairs needs hybrid matching"), "\(lexical.stderr)")
    }

    @Test func goldReadAsAReportScoresAsTheScriptScoresIt() throws {
        for folder in try Self.goldFolders() {
            let gold = folder + "/gold.json"
            let result = try Self.run(Self.binary, ["consolidation", folder, "--report", gold, "--format", "json"])
            #expect(result.status == 0, "\(result.stderr)")
            let output = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] ?? [:]
            let score = (output["folders"] as? [[String: Any]])?.first?["score"] as? [String: Any] ?? [:]
            Self.expectAgreement(score, try Self.script(gold, folder).json, "gold of \(folder)")
        }
    }

    /// Three answers with non-ASCII text (offsets are code points: "é" is one, "🔪" one) and a hand-made report
    /// with the cases the scorer must get right: a span overlapping two mentions (the larger overlap wins), a
    /// span that barely overlaps its mention, evidence of a panelist outside the support, a wrong quote, filler,
    /// false agreement, a duplicate in the support, and labels that Python prints with escapes.
    static func craftedFolder() throws -> (folder: URL, report: String) {
        let a = "Use a sharp knife 🔪, a dull one slips. Curl your fingers into a claw. Hope this helps!"
        let b = "Keep the blade sharp; dull blades slip. Café tip: go slowly. Enjoy!"
        let c = "Claw grip: curl the fingertips under. Take your time."
        func q(_ text: String, _ quote: String) -> (Int, Int) {
            let scalars = Array(text.unicodeScalars), needle = Array(quote.unicodeScalars)
            let start = (0...(scalars.count - needle.count)).first { Array(scalars[$0..<($0 + needle.count)]) == needle }!
            return (start, start + needle.count)
        }
        let gold: [String: Any] = ["keyPoints": [
            ["id": "sharp", "label": "Sharp knife", "mentions": [
                ["panelist": "a", "quote": "Use a sharp knife 🔪, a dull one slips."],
                ["panelist": "b", "quote": "Keep the blade sharp; dull blades slip."]]],
            ["id": "claw", "label": "Claw grip", "mentions": [
                ["panelist": "a", "quote": "Curl your fingers into a claw."],
                ["panelist": "c", "quote": "Claw grip: curl the fingertips under."]]],
            ["id": "slow", "label": "Go slowly", "mentions": [
                ["panelist": "b", "quote": "go slowly"], ["panelist": "c", "quote": "Take your time."]]],
        ]]
        func evidence(_ panelist: String, _ text: String, _ quote: String, start: Int? = nil, end: Int? = nil) -> [String: Any] {
            let (s, e) = q(text, quote)
            return ["panelist": panelist, "quote": quote, "start": start ?? s, "end": end ?? e]
        }
        let keyPoints: [[String: Any]] = [
            // a's span runs over sharp (37 scalars) and claw (29): counts for sharp.
            ["label": "Sharp 🔪 knives", "support": ["a", "b", "a"], "evidence": [
                evidence("a", a, "Use a sharp knife 🔪, a dull one slips. Curl your fingers into a claw."),
                evidence("b", b, "Keep the blade sharp")]],
            // b's span overlaps its mention "go slowly" by one scalar: no hit. c's offsets do not hold its quote
            // (a wrong quote), and they overlap c's claw mention, which is what they hit.
            ["label": "Go 'slow'", "support": ["b", "c"], "evidence": [
                evidence("b", b, "y. Enjoy!"), evidence("c", c, "Take your time.", start: 0, end: 15)]],
            // Evidence of c, outside the support, joins a's: precision 2 for a, as the script counts it.
            ["label": "Claw\tgrip \"curl\" it's", "support": ["a"], "evidence": [
                evidence("a", a, "Curl your fingers"), evidence("c", c, "Claw grip: curl the fingertips under.")]],
            ["label": "Hope this helps", "support": ["a", "b"], "evidence": [
                evidence("a", a, "Hope this helps!"), evidence("b", b, "Enjoy!")]],
            ["label": "Café\u{200B}", "support": ["b"], "evidence": [evidence("b", b, "Café tip")]],
        ]
        let folder = try CLI.temporaryFolder([
            "a.md": Data(a.utf8), "b.md": Data(b.utf8), "c.md": Data(c.utf8), "prompt.md": Data("Dice safely?".utf8),
            "gold.json": try JSONSerialization.data(withJSONObject: gold),
            "report.json": try JSONSerialization.data(withJSONObject: ["keyPoints": keyPoints]),
        ])
        return (folder, folder.appendingPathComponent("report.json").path)
    }

    @Test func craftedEdgeCasesScoreAsTheScriptScoresThem() throws {
        let (folder, report) = try Self.craftedFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let python = try Self.script(report, folder.path)
        let json = try Self.run(Self.binary, ["consolidation", folder.path, "--report", report, "--format", "json"])
        #expect(json.status == 0, "\(json.stderr)")
        let output = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any] ?? [:]
        let score = (output["folders"] as? [[String: Any]])?.first?["score"] as? [String: Any] ?? [:]
        Self.expectAgreement(score, python.json, "crafted")
        // The crafted report has filler, false agreement and a wrong quote, so the check has something to see.
        #expect((python.json["filler"] as? NSNumber)?.doubleValue ?? 0 > 0)
        #expect((python.json["false_conv"] as? NSNumber)?.doubleValue ?? 0 > 0)
        #expect((python.json["quotes_exact"] as? NSNumber)?.intValue != (python.json["quotes"] as? NSNumber)?.intValue)
        let text = try Self.run(Self.binary, ["consolidation", folder.path, "--report", report, "--verbose"])
        #expect(text.stdout == python.text)
        #expect(text.stdout.contains("FILLER"), "\(text.stdout)")
        #expect(text.stdout.contains("FALSE-CONV"), "\(text.stdout)")
    }

    @Test func inputErrorsNameTheFileAndFieldAndExit2() throws {
        let (folder, report) = try Self.craftedFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let gold = folder.appendingPathComponent("gold.json")
        func expectError(_ arguments: [String], _ message: String) throws {
            let result = try Self.run(Self.binary, ["consolidation"] + arguments)
            #expect(result.status == 2, "\(arguments): \(result.stdout) \(result.stderr)")
            #expect(result.stderr.hasPrefix("converge-eval: error: "), "\(result.stderr)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
            #expect(!result.stderr.contains("USAGE"))
            #expect(result.stdout.isEmpty)
        }
        try expectError([folder.path, "--report", folder.path + "/missing.json"],
                        "\(folder.path)/missing.json: no such file")
        try Data(#"{"keyPoints": [{"label": "x", "evidence": [{"panelist": "a", "quote": "Use", "start": 0}]}]}"#.utf8)
            .write(to: URL(fileURLWithPath: report))
        try expectError([folder.path, "--report", report], "\(report): keyPoints[0].evidence[0].end: missing")
        try Data(#"{"keyPoints": [{"id": "k", "mentions": [{"panelist": "a", "quote": "not in the answer"}]}]}"#.utf8)
            .write(to: gold)
        try expectError([folder.path, "--similarity", "lexical"],
                        "\(gold.path): keyPoints[0].mentions[0].quote: gold quote not found in a's answer: 'not in the answer'")
        try Data(#"{"keyPoints": [{"id": "k", "mentions": [{"panelist": "z", "quote": "Use"}]}]}"#.utf8).write(to: gold)
        try expectError([folder.path, "--similarity", "lexical"], "\(gold.path): keyPoints[0].mentions[0].panelist: `z` has no answer")
        try Data(#"{"keyPoints": [{"id": "k", "mentions": [{"panelist": "a", "quote": 5}]}]}"#.utf8).write(to: gold)
        try expectError([folder.path, "--similarity", "lexical"], "\(gold.path): keyPoints[0].mentions[0].quote: expected a string")
        try Data(#"{"keyPoints": [{"id": "k", "mentions": []}, {"id": "k", "mentions": []}]}"#.utf8).write(to: gold)
        try expectError([folder.path, "--similarity", "lexical"], "\(gold.path): keyPoints[1].id: `k` is already the id of keyPoints[0]")
        try Data("{\"keyPoints\": [".utf8).write(to: gold)
        try expectError([folder.path, "--similarity", "lexical"], "\(gold.path): not valid JSON")
        try FileManager.default.removeItem(at: gold)
        try expectError([folder.path, "--similarity", "lexical"], "\(gold.path): no such file")
        try expectError(["/nonexistent/gold-folder"], "/nonexistent/gold-folder: no such folder")
    }
}
