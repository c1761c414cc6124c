import ArgumentParser
import ConvergeAnalysis
import ConvergeCore
import ConvergeEmbeddings
import ConvergeTestSupport
import Foundation

/// Loads the installed all-MiniLM-L6-v2, or exits with the loader's message.
func loadEncoder(batchSize: Int = 64, threads: Int = ProcessInfo.processInfo.activeProcessorCount) throws
    -> SentenceEmbeddingModel {
    do {
        return try ModelStore().load(batchSize: batchSize, threads: threads)
    } catch let error as EmbeddingModelError {
        throw EvalError(error.description)
    }
}

/// The encoder of `kpa-predict` and `kpa-train`: a `VectorTable` when `CONVERGE_EVAL_VECTORS` is set, else the
/// installed all-MiniLM-L6-v2.
func kpaEncoder() throws -> any SentenceEncoder {
    try VectorTable.fromEnvironment() ?? loadEncoder()
}

/// Whether ArgKP texts are encoded alone or read in their topic (`--context`).
enum KPAContext: String, CaseIterable, ExpressibleByArgument {
    case none, topic
}

/// `converge-eval kpa-predict DATA_DIR SPLIT --output preds.json`: every argument against every key point of
/// its topic and stance, as `{arg_id: {key_point_id: score}}`.
struct KPAPredict: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kpa-predict", abstract: "Score ArgKP arguments against the key points of their topic and stance.")

    @Argument(help: "ArgKP folder (arguments_SPLIT.csv, key_points_SPLIT.csv, labels_SPLIT.csv).") var dataDir: String
    @Argument(help: "Split: train or dev.") var split: String
    @Option(help: "Predictions file to write.") var output: String
    @Option(help: "lexical (TF-IDF cosine), embedding (MiniLM cosine), average (their mean), hybrid (the learned matcher).")
    var similarity: String = "hybrid"
    @Option(help: """
        none: encode each text alone; topic: read each in its topic ([CLS] topic [SEP] text [SEP], the text's tokens \
        pooled). The shipped hybrid matcher is fitted without context: with topic, use embedding or average here, and \
        kpa-train --context topic for a hybrid fitted with it.
        """)
    var context: KPAContext = .none

    func run() throws {
        guard let kind = KPASimilarity(rawValue: similarity) else {
            throw EvalError("--similarity must be one of \(KPASimilarity.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if context == .topic, kind == .hybrid {
            throw EvalError("--similarity hybrid reads the shipped matcher, fitted without context: use --context none, "
                            + "or kpa-train --context topic --output FILE (it prints the refitted matcher's dev scores)")
        }
        let data = try KPAData(directory: dataDir, split: split)
        let encoder = kind.needsEncoder ? try kpaEncoder() : nil
        let evidence = KPAEvidence(data: data, encoder: encoder, topicContext: context == .topic)
        try (encoder as? VectorTable)?.finish()
        let matcher = try EvalOverrides.matcher() ?? encoder.map { KeyPointMatcher.fitted(for: $0) } ?? .miniLM
        let predictions = evidence.predictions(kind.scorer(matcher: matcher))
        let json = JSONEncoder()
        json.outputFormatting = [.sortedKeys]
        try AtomicFile.write(String(decoding: try json.encode(predictions), as: UTF8.self), to: output)
        print("wrote \(predictions.count) arguments to \(output) (\(similarity)\(encoder.map { ", " + $0.modelName } ?? "")); "
              + "scores:")
        print(KPAEvidence.scores(predictions, data: data).summary)
    }
}

/// `converge-eval kpa-score DATA_DIR SPLIT preds.json`: prints both versions of the track 1 metric, one line
/// each: `current metric (AP x share of positives): mAP strict=X relaxed=Y` and `leaderboard metric (AP): ...`.
struct KPAScore: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kpa-score",
        abstract: "KPA-2021 track 1 mAP (strict and relaxed; current and leaderboard metric) of a predictions file.")

    @Argument(help: "ArgKP folder.") var dataDir: String
    @Argument(help: "Split: train or dev.") var split: String
    @Argument(help: "Predictions: {arg_id: {key_point_id: score}}.") var predictions: String

    func run() throws {
        let data = try KPAData(directory: dataDir, split: split)
        guard let bytes = FileManager.default.contents(atPath: predictions) else {
            throw EvalError("\(predictions): cannot be read")
        }
        let decoded: [String: [String: Double]]
        do {
            decoded = try JSONDecoder().decode([String: [String: Double]].self, from: bytes)
        } catch {
            throw EvalError("\(predictions): not {arg_id: {key_point_id: score}} (\(error))")
        }
        let problems = data.problems(with: decoded)
        guard problems.isEmpty else {
            throw EvalError("\(predictions): not scored: " + problems.prefix(5).joined(separator: "; ")
                            + (problems.count > 5 ? "; and \(problems.count - 5) more" : ""))
        }
        print(KPAEvidence.scores(decoded, data: data).summary)
    }
}

/// `converge-eval kpa-train DATA_DIR --seed 1 --output FILE`: fits the learned matcher on ArgKP train: the mix
/// of evidence by train mAP over a grid, then a logistic calibration of its scale and bias on the labelled train
/// pairs (minibatch Adam, seeded shuffle); reports dev mAP and writes the weights as Swift source.
struct KPATrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kpa-train", abstract: "Train the key point matcher on ArgKP train, tuned on dev.")

    @Argument(help: "ArgKP folder.") var dataDir: String
    @Option(help: "Random seed (minibatch order).") var seed: UInt64 = 1
    @Option(help: "Epochs of the calibration fit.") var epochs = 10
    @Option(help: "Fit on the last N train topics (file order) only: those held out of the encoder adapter's training (0: all).")
    var fitTopics = 0
    @Option(help: """
        Swift file to write the weights to (default: KeyPointMatcherWeights.swift, or KeyPointMatcherWeights+ArgKP.swift \
        with CONVERGE_ENCODER_ADAPTER=argkp).
        """)
    var output: String?
    @Option(help: "none or topic: encode the texts alone or read in their topic (as kpa-predict --context).")
    var context: KPAContext = .none

    func run() throws {
        if context == .topic, output == nil {
            throw EvalError("--context topic needs --output: the shipped weights are fitted without context")
        }
        let encoder = try kpaEncoder()
        if encoder is VectorTable, output == nil {
            throw EvalError("CONVERGE_EVAL_VECTORS needs --output: the shipped weights are fitted over all-MiniLM-L6-v2")
        }
        let adapted = (encoder as? SentenceEmbeddingModel)?.encoder.adapter != nil
        let output = output ?? (adapted ? "Sources/ConvergeAnalysis/KeyPointMatcherWeights+ArgKP.swift"
                                        : "Sources/ConvergeAnalysis/KeyPointMatcherWeights.swift")
        var trainData = try KPAData(directory: dataDir, split: "train")
        if fitTopics > 0 { trainData = trainData.lastTopics(fitTopics) }
        print("kpa-train: encoder \(encoder.modelName); fitting on \(trainData.groups.count) topic-stance groups")
        let train = KPAEvidence(data: trainData, encoder: encoder, topicContext: context == .topic)
        let dev = KPAEvidence(data: try KPAData(directory: dataDir, split: "dev"), encoder: encoder,
                              topicContext: context == .topic)
        try (encoder as? VectorTable)?.finish()
        // Labelled training pairs.
        var xs: [MatchEvidence] = [], ys: [Double] = []
        for (g, group) in train.data.groups.enumerated() {
            for (a, arg) in group.arguments.enumerated() {
                for (k, kp) in group.keyPoints.enumerated() {
                    guard let label = train.data.labels[KPAData.labelKey(train.data.arguments[arg].id, train.data.keyPoints[kp].id)]
                    else { continue }
                    xs.append(train.evidence[g][a][k]); ys.append(label ? 1 : 0)
                }
            }
        }
        print("kpa-train: \(xs.count) labelled train pairs (\(Int(ys.reduce(0, +))) positive), seed \(seed)")
        // 1. The mix of evidence, chosen by train mAP (strict + relaxed) over a grid: embedding vs lexical
        //    cosine (alpha), how much of the statement's mean over its candidates is subtracted (beta), and
        //    the coverage weight (c). Only the ranking matters for mAP.
        var best: (alpha: Double, beta: Double, c: Double, map: (strict: Double, relaxed: Double))?
        for alpha in stride(from: 0.3, through: 0.9, by: 0.1) {
            for beta in stride(from: 0.0, through: 1.5, by: 0.25) {
                for c in [0.0, 0.1, 0.2, 0.4] {
                    let direction = Trainer.direction(alpha: alpha, beta: beta, coverage: c)
                    let map = KPAEvidence.score(train.predictions { Trainer.dotFeatures(direction, $0) }, data: train.data)
                    if best == nil || map.strict + map.relaxed > best!.map.strict + best!.map.relaxed {
                        best = (alpha, beta, c, map)
                    }
                }
            }
        }
        let chosen = best!
        print(String(format: "  mix: alpha=%.2f beta=%.2f coverage=%.2f  train mAP strict=%.3f relaxed=%.3f",
                     chosen.alpha, chosen.beta, chosen.c, chosen.map.strict, chosen.map.relaxed))
        // 2. Calibration: a logistic fit of scale and bias on the labelled train pairs, so that scores are
        //    match probabilities (the analysis thresholds read them).
        let direction = Trainer.direction(alpha: chosen.alpha, beta: chosen.beta, coverage: chosen.c)
        let (scale, bias) = Trainer.calibrate(xs.map { Trainer.dotFeatures(direction, $0) }, ys, epochs: epochs, seed: seed)
        var matcher = KeyPointMatcher(weights: direction.map { $0 * scale }, bias: bias, provenance: "")
        let scores = KPAEvidence.scores(dev.predictions(matcher.score), data: dev.data)
        let map = scores.current
        print(String(format: "  calibrated: scale=%.3f bias=%.3f; dev:", scale, bias))
        print(scores.summary)
        matcher.provenance = (adapted ? "CONVERGE_ENCODER_ADAPTER=argkp " : "")
            + "converge-eval kpa-train ../shared/corpus/argkp --seed \(seed) --epochs \(epochs)"
            + (context == .topic ? " --context topic" : "")
            + (fitTopics > 0 ? " --fit-topics \(fitTopics)" : "") + ": "
            + String(format: "mix alpha=%.2f beta=%.2f coverage=%.2f chosen on ArgKP train",
                     chosen.alpha, chosen.beta, chosen.c)
            + (fitTopics > 0 ? " (its last \(fitTopics) topics)" : "")
            + String(format: " (mAP strict=%.3f relaxed=%.3f); ", chosen.map.strict, chosen.map.relaxed)
            + String(format: "dev mAP strict=%.3f relaxed=%.3f (current metric), %.3f / %.3f (leaderboard metric)",
                     map.strict, map.relaxed, scores.leaderboard.strict, scores.leaderboard.relaxed)
        try AtomicFile.write(Trainer.swiftSource(matcher, name: adapted ? "miniLMArgKP" : "miniLM"), to: output)
        print("wrote \(output): \(matcher.provenance)")
        print("as CONVERGE_EVAL_MATCHER: " + (matcher.weights + [matcher.bias]).map { String($0) }.joined(separator: ","))
    }
}

/// Logistic regression by minibatch Adam over `MatchEvidence.features`.
enum Trainer {
    /// Feature weights for the mix `alpha·cos + (1−alpha)·lex + c·coverage − beta·(alpha·meanCos +
    /// (1−alpha)·meanLex)`, written over `MatchEvidence.features`.
    static func direction(alpha: Double, beta: Double, coverage c: Double) -> [Double] {
        [(1 - beta) * alpha, (1 - beta) * (1 - alpha), c, beta * alpha, beta * (1 - alpha)]
    }

    static func dotFeatures(_ w: [Double], _ e: MatchEvidence) -> Double { zip(w, e.features).reduce(0) { $0 + $1.0 * $1.1 } }

    /// Logistic regression of labels on one score: scale and bias, by minibatch Adam with a seeded shuffle.
    static func calibrate(_ xs: [Double], _ ys: [Double], epochs: Int, seed: UInt64) -> (Double, Double) {
        var w = [1.0, 0.0], m = [0.0, 0.0], v = [0.0, 0.0]
        var generator = SeededGenerator(seed: seed)
        var order = Array(xs.indices)
        let batch = 256, rate = 0.05, beta1 = 0.9, beta2 = 0.999
        var step = 0.0
        for _ in 0..<epochs {
            order.shuffle(using: &generator)
            var start = 0
            while start < order.count {
                let end = min(start + batch, order.count)
                var g = [0.0, 0.0]
                for i in order[start..<end] {
                    let error = 1 / (1 + exp(-(w[0] * xs[i] + w[1]))) - ys[i]
                    g[0] += error * xs[i]; g[1] += error
                }
                step += 1
                for j in 0..<2 {
                    let gj = g[j] / Double(end - start)
                    m[j] = beta1 * m[j] + (1 - beta1) * gj
                    v[j] = beta2 * v[j] + (1 - beta2) * gj * gj
                    w[j] -= rate * (m[j] / (1 - pow(beta1, step))) / ((v[j] / (1 - pow(beta2, step))).squareRoot() + 1e-8)
                }
                start = end
            }
        }
        return (w[0], w[1])
    }

    /// The weights as Swift source: `enum KeyPointMatcherWeights` for `miniLM`, an extension of it for
    /// another `name`.
    static func swiftSource(_ matcher: KeyPointMatcher, name: String = "miniLM") -> String {
        func f(_ x: Double) -> String { String(format: "%.6g", x) }
        return """
        // Generated by `converge-eval kpa-train`; do not edit.
        // \(matcher.provenance)
        \(name == "miniLM" ? "enum" : "extension") KeyPointMatcherWeights {
            static let \(name) = KeyPointMatcher(
                weights: [\(matcher.weights.map(f).joined(separator: ", "))], bias: \(f(matcher.bias)),
                provenance: \(String(reflecting: matcher.provenance)))
        }

        """
    }
}
