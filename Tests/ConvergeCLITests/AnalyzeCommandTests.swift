import Foundation
import Testing

@Suite struct AnalyzeCommandTests {
    @Test func analyzesTheBundledExampleAsMarkdown() throws {
        let result = try CLI.run(["analyze", CLI.example])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("# Converge report"))
        #expect(result.stdout.contains("convergence index"))
        #expect(result.stdout.contains("## Omissions"))
        #expect(result.stdout.contains("Using AI tools to augment the engineer's own work (`ai-tools`)"))
    }

    @Test func writesJSONAndCSV() throws {
        let json = try CLI.run(["analyze", CLI.example, "--format", "json"])
        #expect(json.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["schemaVersion"] as? Int == 1)
        #expect((object["panelists"] as? [Any])?.count == 3)
        let csv = try CLI.run(["analyze", CLI.example, "-f", "csv", "--no-rubric"])
        #expect(csv.status == 0)
        #expect(csv.stdout.hasPrefix("key_point,label,category,consensus,support,ai-1,ai-2,ai-3\r\n"))
    }

    @Test func outputFileIsWrittenAtomicallyAndKeptOnFailure() throws {
        let dir = try CLI.temporaryFolder()
        let output = dir.appendingPathComponent("report.json")
        let ok = try CLI.run(["analyze", CLI.example, "--format", "json", "--output", output.path])
        #expect(ok.status == 0)
        #expect(ok.stdout.isEmpty)
        let written = try String(contentsOf: output, encoding: .utf8)
        #expect(written == (try CLI.run(["analyze", CLI.example, "--format", "json"])).stdout)
        // A failing run leaves the earlier report untouched and no temporary file behind.
        let failed = try CLI.run(["analyze", "/nonexistent-folder", "--format", "json", "--output", output.path])
        #expect(failed.status == 2)
        #expect(try String(contentsOf: output, encoding: .utf8) == written)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["report.json"])
    }

    @Test func refusesToOverwriteAnInputAndWritesDashToStdout() throws {
        let dir = try CLI.temporaryFolder(["a.md": Data("Use Go.".utf8), "b.md": Data("Use Rust.".utf8)])
        let answer = dir.appendingPathComponent("a.md")
        let result = try CLI.run(["analyze", dir.path, "--output", answer.path])
        #expect(result.status == 2)
        #expect(result.stderr.contains("is one of the input files"))
        #expect(try String(contentsOf: answer, encoding: .utf8) == "Use Go.")
        let dash = try CLI.run(["analyze", dir.path, "--output", "-"])
        #expect(dash.status == 0 && dash.stdout.hasPrefix("# Converge report"))
        #expect(!FileManager.default.fileExists(atPath: CLI.repo.appendingPathComponent("-").path))
    }

    @Test func twoFoldersWithDifferentRubricsAreAnError() throws {
        func rubric(_ title: String) -> Data { Data("title: \(title)\ncategories: [{name: c, items: [{id: i, text: t}]}]\n".utf8) }
        let a = try CLI.temporaryFolder(["a.md": Data("x".utf8), "rubric.yaml": rubric("A")])
        let b = try CLI.temporaryFolder(["b.md": Data("y".utf8), "rubric.yaml": rubric("B")])
        let result = try CLI.run(["analyze", a.path, b.path])
        #expect(result.status == 2)
        #expect(result.stderr.contains("a second rubric differs"))
        #expect(try CLI.run(["analyze", a.path, b.path, "--rubric", "\(a.path)/rubric.yaml"]).status == 0)
    }

    @Test func answerFilesOneByOneWithPromptFile() throws {
        let files = ["ai-1.md", "ai-3.md"].map { "\(CLI.example)/\($0)" }
        let result = try CLI.run(["analyze"] + files + ["--prompt-file", "\(CLI.example)/prompt.md", "-f", "json"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("\"prompt\" : \"What does it mean"))
        #expect(result.stdout.contains("\"rubric\" : null"))
    }

    @Test func aSingleAnswerSaysConsensusNeedsTwo() throws {
        let dir = try CLI.temporaryFolder(["solo.md": Data("Use Go for services. Test everything.".utf8)])
        let result = try CLI.run(["analyze", dir.path])
        #expect(result.status == 0)
        #expect(result.stdout.contains("Consensus needs at least two answers"))
    }

    /// Bad inputs: name, folder files, flags, expected message. Typed, so the type checker need not infer it.
    static let badInputs: [(String, [String: Data], [String], String)] = [
        ("empty folder", [:], [], "the folder is empty"),
        ("no answers", ["prompt.md": Data("Q?".utf8)], [], "no answer files"),
        ("empty answer", ["a.md": Data("Fine.".utf8), "b.md": Data(" \n".utf8)], [], "b.md: the answer is empty"),
        ("binary", ["a.md": Data("ok".utf8), "b.txt": Data([0x7F, 0x45, 0x4C, 0x46, 0x00])], [], "NUL byte"),
        ("latin-1", ["a.md": Data("ok".utf8), "b.md": Data([0x63, 0x61, 0x66, 0xE9])], [], "not valid UTF-8"),
        ("yaml error", ["a.md": Data("ok".utf8), "rubric.yaml": Data("title: x\ncategories: [\n".utf8)], [],
         "rubric.yaml:3:1: YAML error"),
        ("duplicate ids", ["a.md": Data("ok".utf8), "rubric.yaml": Data(
            "title: x\ncategories:\n  - name: A\n    items:\n      - {id: k, text: one}\n      - {id: k, text: two}\n".utf8)],
         [], "duplicate rubric id `k`"),
        ("unknown flag", ["a.md": Data("ok".utf8)], ["--frobnicate"], "Unknown option '--frobnicate'"),
        ("conflicting flags", ["a.md": Data("ok".utf8)], ["--rubric", "x.yaml", "--no-rubric"],
         "--rubric and --no-rubric cannot be used together"),
        ("unknown format", ["a.md": Data("ok".utf8)], ["--format", "pdf"], "'pdf' is invalid"),
        ("folder as rubric", ["a.md": Data("ok".utf8)], ["--rubric", "/tmp"], "/tmp: is a folder, not a file"),
        ("device as prompt", ["a.md": Data("ok".utf8)], ["--prompt-file", "/dev/null"], "is not a regular file"),
        ("empty output name", ["a.md": Data("ok".utf8)], ["--output", ""], "--output needs a file name"),
    ]

    /// Bad input: exit status 2, a message naming what and where, never a crash or a stack trace.
    @Test(arguments: badInputs)
    func badInputExitsWithTwo(name: String, files: [String: Data], flags: [String], message: String) throws {
        let dir = try CLI.temporaryFolder(files)
        let result = try CLI.run(["analyze", dir.path] + flags)
        #expect(result.status == 2, "\(name): \(result.stderr)")
        #expect(result.stderr.contains(message), "\(name): \(result.stderr)")
        #expect(!result.stderr.contains("Fatal error") && !result.stderr.contains("Stack dump"), "\(name)")
        #expect(result.stdout.isEmpty, "\(name)")
    }

    /// A symbolic link to a regular answer file (absolute or relative, in a folder or given as a file) is read as
    /// that file; a link to nothing or to a device is an input error naming the link.
    @Test func symbolicLinksToRegularFilesAreRead() throws {
        let elsewhere = try CLI.temporaryFolder(["answer.md": Data("Use Go for services. Test everything.".utf8)])
        let dir = try CLI.temporaryFolder(["a.md": Data("Use Go for services. Write tests.".utf8)])
        defer { try? FileManager.default.removeItem(at: dir); try? FileManager.default.removeItem(at: elsewhere) }
        let fm = FileManager.default
        try fm.createSymbolicLink(atPath: dir.appendingPathComponent("b.md").path,
                                  withDestinationPath: elsewhere.appendingPathComponent("answer.md").path)
        // A relative link, and a link to that link (a chain).
        try fm.createSymbolicLink(atPath: dir.appendingPathComponent("c.md").path, withDestinationPath: "a.md")
        try fm.createSymbolicLink(atPath: dir.appendingPathComponent("d.md").path, withDestinationPath: "c.md")
        let result = try CLI.run(["analyze", dir.path, "-f", "json"])
        #expect(result.status == 0, "\(result.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let panelists = try #require(json["panelists"] as? [[String: Any]], "\(json.keys)")
        #expect(panelists.compactMap { $0["id"] as? String } == ["a", "b", "c", "d"], "\(panelists)")
        let single = try CLI.run(["analyze", dir.appendingPathComponent("b.md").path,
                                  dir.appendingPathComponent("d.md").path, "-f", "json"])
        #expect(single.status == 0, "\(single.stderr)")

        try fm.createSymbolicLink(atPath: dir.appendingPathComponent("e.md").path, withDestinationPath: "missing.md")
        let dangling = try CLI.run(["analyze", dir.path])
        #expect(dangling.status == 2)
        #expect(dangling.stderr.contains("e.md: is a symbolic link to a file that does not exist"), "\(dangling.stderr)")
        try fm.removeItem(atPath: dir.appendingPathComponent("e.md").path)
        try fm.createSymbolicLink(atPath: dir.appendingPathComponent("prompt.md").path, withDestinationPath: "/dev/null")
        let device = try CLI.run(["analyze", dir.path])
        #expect(device.status == 2)
        #expect(device.stderr.contains("is not a regular file"), "\(device.stderr)")
    }

    @Test func aTenMegabyteAnswerFinishes() throws {
        // Real text (the example's answers) repeated to 10 MB beside two ordinary answers.
        let base = try ["ai-1.md", "ai-2.md", "ai-3.md"].map {
            try String(contentsOfFile: "\(CLI.example)/\($0)", encoding: .utf8)
        }.joined(separator: "\n\n- ")
        var huge = ""
        while huge.utf8.count < 10_000_000 { huge += base + "\n\n" }
        let dir = try CLI.temporaryFolder(["huge.md": Data(huge.utf8),
                                           "ai-2.md": Data(base.utf8), "ai-3.md": Data("Go and Rust.".utf8)])
        let output = dir.appendingPathComponent("out.json")
        let result = try CLI.run(["analyze", dir.path, "-f", "json", "-o", output.path])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: output)) as? [String: Any])
        #expect((report["keyPoints"] as? [Any])?.isEmpty == false)
    }
}
