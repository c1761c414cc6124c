import ConvergeAnalysis
import ConvergeCore
import ConvergeReport
import Foundation
import Testing

/// Real input beyond the example: five models' answers to AlpacaEval prompts (../shared/corpus/alpaca-eval,
/// CC BY-NC 4.0, read in place and never copied into the repository).
@Suite struct AlpacaEvalInvariantTests {
    struct Output: Decodable { var instruction: String; var output: String }

    static let models = ["claude-3-5-sonnet-20240620", "gpt-4o-2024-05-13", "Meta-Llama-3.1-405B-Instruct-Turbo",
                         "mistral-large-2402", "Qwen2-72B-Instruct"]
    /// Every 32nd prompt: 26 prompts spread over the whole set (805 prompts).
    static let prompts = Array(stride(from: 0, to: 805, by: 32))

    static func load() throws -> [AnalysisInput] {
        let folder = Paths.corpus.appendingPathComponent("alpaca-eval")
        let outputs = try models.map { model in
            try JSONDecoder().decode([Output].self,
                                     from: Data(contentsOf: folder.appendingPathComponent("\(model).json")))
        }
        return prompts.map { p in
            AnalysisInput(prompt: outputs[0][p].instruction,
                          answers: zip(models, outputs).map { Answer(panelist: Panelist(id: $0), text: $1[p].output) },
                          rubric: nil)
        }
    }

    @Test func invariantsHoldOnRealAnswers() throws {
        let inputs = try Self.load()
        #expect(inputs.count >= 20)
        let workDir = FileManager.default.temporaryDirectory.appendingPathComponent("converge-alpaca-\(UUID())")
        defer { try? FileManager.default.removeItem(at: workDir) }
        for (n, input) in inputs.enumerated() {
            let report = Analyzer().analyze(input)
            let answers = Dictionary(uniqueKeysWithValues: input.answers.map { ($0.panelist.id, $0.text) })
            #expect(quoteViolations(report, answers: answers) == [], "prompt \(Self.prompts[n])")
            #expect(invariantViolations(report) == [], "prompt \(Self.prompts[n])")
            #expect(report.panelists.count == 5)
            #expect(report.keyPoints.count > 0)
            // Same input, same bytes.
            let json = ReportRenderer.render(report, format: .json)
            #expect(ReportRenderer.render(Analyzer().analyze(input), format: .json) == json)

            // Written out for the schema and Python-slicing check below.
            let dir = workDir.appendingPathComponent("p\(Self.prompts[n])")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            for answer in input.answers {
                try Data(answer.text.utf8).write(to: dir.appendingPathComponent("\(answer.panelist.id).md"))
            }
            try Data(json.utf8).write(to: workDir.appendingPathComponent("p\(Self.prompts[n]).json"))
        }
        // JSON valid against schema/report-v1.json, and `answer[start:end] == quote` in Python.
        for p in Self.prompts {
            let result = try runPython(["scripts/check-report.py", "schema/report-v1.json",
                                        workDir.appendingPathComponent("p\(p).json").path,
                                        workDir.appendingPathComponent("p\(p)").path])
            #expect(result.status == 0, "prompt \(p): \(result.output)")
        }
    }
}

/// Runs `python3` with arguments in the repository root; returns exit status and combined output.
func runPython(_ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3"] + arguments
    process.currentDirectoryURL = Paths.repo
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}
