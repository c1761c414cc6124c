import ConvergeTestSupport
import Foundation
import Testing

/// `converge-eval` input errors through the real binary: `converge-eval: error: ...`, exit 2, no usage dump.
@Suite(.serialized) struct EvalCommandTests {
    static let binary = ChildProcess.builtProduct("converge-eval", repository: CLI.repo)

    func eval(_ arguments: [String], in directory: URL? = nil) throws -> CLI.Result {
        try CLI.run(arguments, in: directory, executable: Self.binary)
    }

    /// A two-topic ArgKP dev split: a1, a2 (topic T, pro) with k1; a3 (topic U, con) with k2.
    static func argkp() throws -> URL {
        try CLI.temporaryFolder([
            "arguments_dev.csv": Data("arg_id,argument,topic,stance\na1,one,T,1\na2,two,T,1\na3,three,U,-1\n".utf8),
            "key_points_dev.csv": Data("key_point_id,key_point,topic,stance\nk1,kp one,T,1\nk2,kp two,U,-1\n".utf8),
            "labels_dev.csv": Data("arg_id,key_point_id,label\na1,k1,1\na2,k1,0\na3,k2,1\n".utf8),
        ])
    }

    func score(_ predictions: String, split: String = "dev") throws -> CLI.Result {
        let data = try Self.argkp()
        let preds = data.appendingPathComponent("preds.json")
        try Data(predictions.utf8).write(to: preds)
        return try eval(["kpa-score", data.path, split, preds.path])
    }

    @Test func kpaScoreRefusesPredictionsItCannotScore() throws {
        let whole = try score(#"{"a1": {"k1": 0.9}, "a2": {"k1": 0.1}, "a3": {"k2": 0.8}}"#)
        #expect(whole.status == 0, "\(whole.stderr)")
        // Both versions of the metric, named: the script's current one and the shared task's leaderboard one.
        #expect(whole.stdout.contains("current metric (AP x share of positives): mAP strict="))
        #expect(whole.stdout.contains("leaderboard metric (AP): mAP strict="))
        for (preds, message) in [
            (#"{"a1": {"kx": 0.9}, "a2": {"k1": 0.1}, "a3": {"k2": 0.8}}"#, "unknown key point kx"),
            (#"{"a1": {"k2": 0.9}, "a2": {"k1": 0.1}, "a3": {"k2": 0.8}}"#, "key point k2 is of another topic or stance than argument a1"),
            (#"{"a1": {"k1": 0.9}}"#, "covers 1 of 3 arguments"),
        ] {
            let result = try score(preds)
            #expect(result.status == 2, "\(preds): \(result.stdout)")
            #expect(result.stderr.hasPrefix("converge-eval: error: "), "\(result.stderr)")
            #expect(result.stderr.contains(message), "\(result.stderr)")
            #expect(!result.stdout.contains("mAP"))
        }
        for split in ["test", "DEV"] {
            let result = try score("{}", split: split)
            #expect(result.status == 2)
            #expect(result.stderr.contains("unknown split `\(split)`"), "\(result.stderr)")
            #expect(result.stderr.contains("has dev"), "\(result.stderr)")
        }
        let noFolder = try eval(["kpa-score", "/nonexistent/argkp", "dev", "/nonexistent/preds.json"])
        #expect(noFolder.status == 2)
        #expect(noFolder.stderr.hasPrefix("converge-eval: error: /nonexistent/argkp: no such folder"), "\(noFolder.stderr)")
        #expect(!noFolder.stderr.contains("USAGE"))
        let data = try Self.argkp()
        let noPreds = try eval(["kpa-score", data.path, "dev", "/nonexistent/preds.json"])
        #expect(noPreds.status == 2)
        #expect(noPreds.stderr.hasPrefix("converge-eval: error: /nonexistent/preds.json: cannot be read"), "\(noPreds.stderr)")
    }

    /// `--context topic` reads each text in its topic: the scores differ from the plain encoding's, and the
    /// shipped hybrid matcher (fitted without context) is refused with it, as kpa-train is without `--output`.
    @Test(.enabled(if: SimilarityCommandTests.available, "SKIPPED LOUDLY: all-MiniLM-L6-v2 is not installed (scripts/test installs it)"))
    func kpaPredictReadsTextsInTheirTopic() throws {
        _ = try #require(SimilarityCommandTests.installed, "all-MiniLM-L6-v2 must be installed")
        let data = try Self.argkp()
        func predict(_ extra: [String]) throws -> (CLI.Result, [String: [String: Double]]) {
            let out = data.appendingPathComponent("p\(extra.count).json")
            let result = try CLI.run(["kpa-predict", data.path, "dev", "--output", out.path] + extra,
                                     environment: CLI.installedModelEnvironment, executable: Self.binary)
            let scores = (try? JSONDecoder().decode([String: [String: Double]].self, from: Data(contentsOf: out))) ?? [:]
            return (result, scores)
        }
        let (plain, plainScores) = try predict(["--similarity", "embedding"])
        let (inTopic, topicScores) = try predict(["--similarity", "embedding", "--context", "topic"])
        #expect(plain.status == 0 && inTopic.status == 0, "\(plain.stderr) \(inTopic.stderr)")
        #expect(Set(topicScores.keys) == ["a1", "a2", "a3"])
        #expect(topicScores["a1"]?["k1"] != nil && topicScores["a1"]?["k1"] != plainScores["a1"]?["k1"])
        let (hybrid, _) = try predict(["--similarity", "hybrid", "--context", "topic"])
        #expect(hybrid.status == 2)
        #expect(hybrid.stderr.contains("fitted without context"), "\(hybrid.stderr)")
        let train = try CLI.run(["kpa-train", data.path, "--context", "topic"], environment: CLI.installedModelEnvironment,
                                executable: Self.binary)
        #expect(train.status == 2)
        #expect(train.stderr.contains("--context topic needs --output"), "\(train.stderr)")
    }

    /// `CONVERGE_EVAL_VECTORS`: vectors made outside Converge stand in for the encoder. Texts the table lacks are
    /// listed in TABLE.missing.json and the command fails; once they are in the table the scores are their cosines.
    @Test func aVectorTableStandsInForTheEncoder() throws {
        let data = try Self.argkp()
        let table = data.appendingPathComponent("vectors.json")
        func write(_ vectors: [String: [Float]]) throws {
            let encoded = vectors.mapValues { v in
                Data(v.flatMap { f in withUnsafeBytes(of: f.bitPattern.littleEndian) { Array($0) } }).base64EncodedString()
            }
            let file: [String: Any] = ["model": "toy", "dimension": 2, "vectors": encoded]
            try JSONSerialization.data(withJSONObject: file).write(to: table)
        }
        let out = data.appendingPathComponent("p.json")
        func predict() throws -> CLI.Result {
            try CLI.run(["kpa-predict", data.path, "dev", "--output", out.path, "--similarity", "embedding"],
                        environment: CLI.isolatedEnvironment.merging(["CONVERGE_EVAL_VECTORS": table.path]) { $1 },
                        executable: Self.binary)
        }
        let some: [String: [Float]] = ["one": [1, 0], "kp one": [0.8, 0.6]]
        try write(some)
        let partial = try predict()
        #expect(partial.status == 2)
        #expect(partial.stderr.contains("3 texts have no vector in \(table.path)"), "\(partial.stderr)")
        let missingFile = URL(fileURLWithPath: table.path + ".missing.json")
        let missing = try JSONDecoder().decode([[String]].self, from: Data(contentsOf: missingFile))
        #expect(Set(missing) == [["two"], ["three"], ["kp two"]])
        try write(some.merging(["two": [0, 1], "three": [0.6, 0.8], "kp two": [1, 0]]) { $1 })
        try FileManager.default.removeItem(at: missingFile)
        let whole = try predict()
        #expect(whole.status == 0, "\(whole.stderr)")
        let scores = try JSONDecoder().decode([String: [String: Double]].self, from: Data(contentsOf: out))
        #expect(abs((scores["a1"]?["k1"] ?? 0) - 0.8) < 1e-6 && abs((scores["a2"]?["k1"] ?? 0) - 0.6) < 1e-6)
        #expect(abs((scores["a3"]?["k2"] ?? 0) - 0.6) < 1e-6)
        #expect(!FileManager.default.fileExists(atPath: missingFile.path))
        try Data(#"{"model": "toy", "dimension": 2, "vectors": {"one": "AAAA"}}"#.utf8).write(to: table)
        let damaged = try predict()
        #expect(damaged.status == 2)
        #expect(damaged.stderr.contains("CONVERGE_EVAL_VECTORS=\(table.path): the vector of \"one\" is not 2 base64 float32"),
                "\(damaged.stderr)")
    }

    @Test func benchEncodeRefusesBadSizesAndAMissingReference() throws {
        for (arguments, message) in [
            (["--batch", "0"], "--batch must be at least 1, not 0"),
            (["--batch=-5"], "--batch must be at least 1, not -5"),
            (["--sentences", "0"], "--sentences must be at least 1, not 0"),
            (["--reference", "scripts/no-such-reference.py"], "reference script scripts/no-such-reference.py not found"),
            (["--threads", "0"], "--threads must be at least 1, not 0"),
            (["--onnx", "scripts/no-such-onnx.py"], "onnx script scripts/no-such-onnx.py not found"),
        ] {
            let result = try eval(["bench", "encode"] + arguments, in: FileManager.default.temporaryDirectory)
            #expect(result.status == 2, "\(arguments): \(result.stdout) \(result.stderr)")
            #expect(result.stderr.hasPrefix("converge-eval: error: "), "\(result.stderr)")
            #expect(result.stderr.contains(message), "\(result.stderr)")
        }
    }
}
