import ConvergeCore
import Foundation
import Testing

/// Paths in the repository, found from this file's location.
enum Repo {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // ConvergeReportTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()
    static let seniorBackend = root.appendingPathComponent("examples/senior-backend")
    static let schema = root.appendingPathComponent("schema/report-v1.json")
    static let checkReport = root.appendingPathComponent("scripts/check-report.py")
}

struct FixtureError: Error, CustomStringConvertible {
    var description: String
}

/// The three real answers of `examples/senior-backend` (a copy of `corpus/senior-backend`), read exactly.
struct SeniorBackend {
    let answers: [String: String]
    let prompt: String

    init() throws {
        var answers: [String: String] = [:]
        for id in ["ai-1", "ai-2", "ai-3"] {
            let data = try Data(contentsOf: Repo.seniorBackend.appendingPathComponent("\(id).md"))
            answers[id] = String(decoding: data, as: UTF8.self)
        }
        self.answers = answers
        let prompt = try String(contentsOf: Repo.seniorBackend.appendingPathComponent("prompt.md"), encoding: .utf8)
        self.prompt = prompt.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The first occurrence of `quote` in the answer of `panelist`, as code point offsets.
    func evidence(_ panelist: String, _ quote: String) throws -> Report.Evidence {
        let (start, end) = try locate(panelist, quote)
        return Report.Evidence(panelist: panelist, quote: quote, start: start, end: end)
    }

    func value(_ panelist: String, _ value: String, _ quote: String) throws -> Report.ConflictValue {
        let (start, end) = try locate(panelist, quote)
        return Report.ConflictValue(panelist: panelist, value: value, quote: quote, start: start, end: end)
    }

    private func locate(_ panelist: String, _ quote: String) throws -> (Int, Int) {
        guard let text = answers[panelist] else { throw FixtureError(description: "no answer \(panelist)") }
        let haystack = Array(text.unicodeScalars), needle = Array(quote.unicodeScalars)
        guard !needle.isEmpty, needle.count <= haystack.count else {
            throw FixtureError(description: "bad quote \(quote)")
        }
        for start in 0...(haystack.count - needle.count) where Array(haystack[start..<start + needle.count]) == needle {
            return (start, start + needle.count)
        }
        throw FixtureError(description: "\(panelist) does not say: \(quote)")
    }

    static let panelIds = ["ai-1", "ai-2", "ai-3"]

    /// A realistic report of the three answers, written by hand: key points in three categories plus an
    /// uncategorised one, terms (including `C#`), a conflict on years of experience, and a rubric with one
    /// omission (AI in the workflow).
    func report() throws -> Report {
        let panelists = Self.panelIds.enumerated().map { i, id in
            Report.PanelistEntry(id: id, label: "AI \(i + 1)", model: nil, status: .answered)
        }
        let keyPoints: [Report.KeyPoint] = [
            .init(id: "kp-1", label: "5+ years of experience", category: "Experience", support: ["ai-1", "ai-3"],
                  consensus: .majority, evidence: [
                      try evidence("ai-1", "typically backed by 5+ years of dedicated experience"),
                      try evidence("ai-3", "having 5+ years of experience"),
                  ], rubricItem: "years"),
            .init(id: "kp-2", label: "Backend languages such as Go, Java and Python", category: "Technical expertise",
                  support: ["ai-1", "ai-2", "ai-3"], consensus: .unanimous, evidence: [
                      try evidence("ai-1", "mastering at least one backend language (e.g., Python, Java, Go, Node.js)"),
                      try evidence("ai-2", "mastery of backend languages like Java, Python, Go, or C#"),
                      try evidence("ai-3", "Strong in languages like Go, Java, or Python"),
                  ], rubricItem: "languages"),
            .init(id: "kp-3", label: "Mentoring", category: "Leadership and mentorship", support: ["ai-1", "ai-2"],
                  consensus: .majority, evidence: [
                      // Longer than 160 characters: shortened in Markdown, whole in CSV.
                      try evidence("ai-1", "Beyond coding, it encompasses mentorship, solving complex technical challenges, "
                                   + "driving strategic technical decisions, and contributing to the overall architectural vision."),
                      try evidence("ai-2", "Their role extends into mentoring junior developers"),
                      // A second quote from AI 2: Markdown shows one quote per panelist.
                      try evidence("ai-2", "mentoring junior developers"),
                  ], rubricItem: "mentoring"),
            .init(id: "kp-4", label: "Cloud platforms: AWS, Azure, GCP", category: "Technical expertise",
                  support: ["ai-1", "ai-2"], consensus: .majority, evidence: [
                      try evidence("ai-1", "cloud platforms like AWS, Azure, or GCP"),
                      try evidence("ai-2", "cloud platforms such as AWS, Azure, or GCP"),
                  ], rubricItem: "cloud"),
            .init(id: "kp-5", label: "Designing Data-Intensive Applications", category: "Essential knowledge and books",
                  support: ["ai-1", "ai-2"], consensus: .majority, evidence: [
                      // Quotes with double quotes: escaped in CSV.
                      try evidence("ai-1", "Essential reads like \"Designing Data-Intensive Applications\""),
                      try evidence("ai-2", "\"Designing Data-Intensive Applications\" by Kleppmann"),
                  ], rubricItem: "ddia"),
            .init(id: "kp-6", label: "Domain-Driven Design", category: nil, support: ["ai-3"], consensus: .unique,
                  evidence: [try evidence("ai-3", "Familiar with Clean Code, Design Patterns, and DDD.")],
                  rubricItem: "ddd"),
        ]
        let terms: [Report.Term] = [
            .init(text: "Go", kind: .name, support: ["ai-1", "ai-2", "ai-3"],
                  evidence: [try evidence("ai-1", "Go"), try evidence("ai-2", "Go"), try evidence("ai-3", "Go")]),
            .init(text: "AWS", kind: .name, support: ["ai-1", "ai-2"],
                  evidence: [try evidence("ai-1", "AWS"), try evidence("ai-2", "AWS")]),
            .init(text: "Designing Data-Intensive Applications", kind: .title, support: ["ai-1", "ai-2"], evidence: [
                try evidence("ai-1", "Designing Data-Intensive Applications"),
                try evidence("ai-2", "Designing Data-Intensive Applications"),
            ]),
            .init(text: "5+ years", kind: .quantity, support: ["ai-1", "ai-3"],
                  evidence: [try evidence("ai-1", "5+ years"), try evidence("ai-3", "5+ years")]),
            .init(text: "C#", kind: .name, support: ["ai-2"], evidence: [try evidence("ai-2", "C#")]),
        ]
        let conflicts = [
            Report.Conflict(topic: "Years of experience", values: [
                try value("ai-1", "5+ years", "5+ years of dedicated experience"),
                try value("ai-2", "5-8+ years", "5-8+ years of experience"),
                try value("ai-3", "5+ years", "5+ years of experience"),
            ], keyPoint: "kp-1"),
        ]
        let rubric = Report.RubricCoverage(title: "Senior backend software engineer", items: [
            .init(id: "years", category: "Experience", text: "Five or more years of professional backend experience",
                  support: ["ai-1", "ai-2", "ai-3"], evidence: [
                      try evidence("ai-1", "5+ years of dedicated experience"),
                      try evidence("ai-2", "5-8+ years of experience"),
                      try evidence("ai-3", "5+ years of experience"),
                  ]),
            .init(id: "caching", category: "Technical expertise", text: "Caching strategies", support: ["ai-2"],
                  evidence: [try evidence("ai-2", "caching strategies")]),
            .init(id: "messaging", category: "Technical expertise", text: "Messaging systems", support: ["ai-3"],
                  evidence: [try evidence("ai-3", "messaging")]),
            .init(id: "ai-tools", category: "AI in the workflow",
                  text: "Using AI tools to augment the engineer's own work", support: [], evidence: []),
        ])
        let omissions = [Report.Omission(item: "ai-tools", category: "AI in the workflow",
                                         text: "Using AI tools to augment the engineer's own work")]
        return Report(prompt: prompt, panelists: panelists, keyPoints: keyPoints, terms: terms, conflicts: conflicts,
                      rubric: rubric, omissions: omissions,
                      convergence: Self.convergence(keyPoints, panel: Self.panelIds),
                      analysis: .init(engine: "converge-lexical-1", similarity: "lexical", statements: 23, blind: false))
    }

    /// Mean pairwise Jaccard similarity of the key point sets the panelists support (ARCHITECTURE.md, "Terms").
    static func convergence(_ keyPoints: [Report.KeyPoint], panel: [String]) -> Report.Convergence {
        func points(_ id: String) -> Set<String> { Set(keyPoints.filter { $0.support.contains(id) }.map(\.id)) }
        var pairwise: [String: [String: Double]] = [:]
        var sum = 0.0, pairs = 0
        for a in panel {
            for b in panel {
                let union = points(a).union(points(b)).count
                let jaccard = union == 0 ? 1 : Double(points(a).intersection(points(b)).count) / Double(union)
                pairwise[a, default: [:]][b] = jaccard
                if a < b {
                    sum += jaccard
                    pairs += 1
                }
            }
        }
        return Report.Convergence(index: pairs == 0 ? 0 : sum / Double(pairs), pairwise: pairwise)
    }
}

/// A small report built from nothing but literals, with every optional field absent.
func minimalReport(answered: Int = 2, failed: Int = 0) -> Report {
    var panelists: [Report.PanelistEntry] = []
    for i in 0..<answered {
        panelists.append(.init(id: "p\(i + 1)", label: "P\(i + 1)", model: nil, status: .answered))
    }
    for i in 0..<failed {
        panelists.append(.init(id: "f\(i + 1)", label: "F\(i + 1)", model: "openai/gpt-4o", status: .failed,
                               error: "HTTP 429: rate limited\nretry after 20 s"))
    }
    let ids = panelists.filter { $0.status == .answered }.map(\.id)
    let keyPoints = ids.isEmpty ? [] : [
        Report.KeyPoint(id: "kp-1", label: "Tests matter", category: nil, support: [ids[0]],
                        consensus: ConsensusLevel(support: 1, panelSize: ids.count),
                        evidence: [.init(panelist: ids[0], quote: "Tests matter.", start: 0, end: 13)]),
    ]
    return Report(prompt: nil, panelists: panelists, keyPoints: keyPoints, terms: [], conflicts: [], rubric: nil,
                  omissions: [], convergence: SeniorBackend.convergence(keyPoints, panel: ids), analysis: nil)
}

/// Runs `python3 scripts/check-report.py` on a report; returns its exit status and output.
func checkReport(_ json: String, answers: [URL] = [Repo.seniorBackend]) throws -> (status: Int32, output: String) {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("converge-report-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let file = dir.appendingPathComponent("report.json")
    try Data(json.utf8).write(to: file)

    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", Repo.checkReport.path, Repo.schema.path, file.path] + answers.map(\.path)
    process.currentDirectoryURL = Repo.root
    let outputFile = dir.appendingPathComponent("output.txt")
    _ = FileManager.default.createFile(atPath: outputFile.path, contents: nil)
    let handle = try FileHandle(forWritingTo: outputFile)
    process.standardOutput = handle
    process.standardError = handle
    try process.run()
    process.waitUntilExit()
    try handle.close()
    let output = try String(contentsOf: outputFile, encoding: .utf8)
    return (process.terminationStatus, output)
}
