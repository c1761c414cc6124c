import ArgumentParser
import ConvergeAnalysis
import ConvergeCore
import ConvergeEmbeddings
import ConvergeTestSupport
import Foundation

/// Loads the installed all-MiniLM-L6-v2 (with `adapter` merged into it), or exits with the loader's message.
func loadEncoder(batchSize: Int = 64, adapter: ModelAdapter? = nil) throws -> SentenceEmbeddingModel {
    do {
        return try ModelStore().load(batchSize: batchSize, adapter: adapter)
    } catch let error as EmbeddingModelError {
        throw EvalError(error.description)
    }
}

/// `converge-eval kpa-predict DATA_DIR SPLIT --output preds.json`: every argument against every key point of
/// its topic and stance, as `{arg_id: {key_point_id: score}}`.
struct KPAPredict: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kpa-predict", abstract: "Score ArgKP arguments against the key points of their topic and stance.")

    @Argument(help: "ArgKP folder (arguments_SPLIT.csv, key_points_SPLIT.csv, labels_SPLIT.csv).") var dataDir: String
    @Argument(help: "Split: train or dev.") var split: String
    @Option(help: "Predictions file to write.") var output: String
    @Option(help: """
        lexical (TF-IDF cosine), embedding (MiniLM cosine), average (their mean), hybrid-v1 (the first learned \
        matcher, base MiniLM), tuned (cosine of the ArgKP-tuned MiniLM), hybrid (the shipped matcher over the tuned MiniLM).
        """)
    var similarity: String = "hybrid"

    func run() throws {
        guard let kind = KPASimilarity(rawValue: similarity) else {
            throw EvalError("--similarity must be one of \(KPASimilarity.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let data = try KPAData(directory: dataDir, split: split)
        let model = kind.needsEncoder ? try loadEncoder(adapter: kind.tunedEncoder ? .argKP : nil) : nil
        let start = Date()
        let evidence = KPAEvidence(data: data, encoder: model)
        let predictions = evidence.predictions(kind.scorer())
        let seconds = Date().timeIntervalSince(start)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try AtomicFile.write(String(decoding: try encoder.encode(predictions), as: UTF8.self), to: output)
        let pairs = data.groups.reduce(0) { $0 + $1.arguments.count * $1.keyPoints.count }
        print("wrote \(predictions.count) arguments to \(output) (\(similarity)); "
              + String(format: "%d texts encoded and %d pairs scored in %.2f s (%.0f texts/s)",
                       data.arguments.count + data.keyPoints.count, pairs, seconds,
                       Double(data.arguments.count + data.keyPoints.count) / max(seconds, 1e-9)))
        print(KPAEvidence.scores(predictions, data: data).summary)
    }
}

/// `converge-eval kpa-score DATA_DIR SPLIT preds.json`: prints both versions of the track 1 metric, one line
/// each: `current metric (AP x share of positives): mAP strict=X relaxed=Y` and `leaderboard metric (AP): ...`.
struct KPAScore: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kpa-score", abstract: "KPA-2021 track 1 mAP (strict and relaxed; current and leaderboard metric) of a predictions file.")

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
    @Option(help: "Encoder adapter: none (base MiniLM; writes KeyPointMatcher.miniLM) or argkp (the ArgKP-tuned MiniLM; writes KeyPointMatcher.miniLMArgKP).")
    var adapter = "none"
    @Option(help: "Fit on the last N topics of train only (those scripts/train-matcher.py --holdout-topics N held out of the encoder's training); 0: all.")
    var fitTopics = 0
    @Option(help: "Swift file to write the weights to (default by --adapter).")
    var output: String?
    @Option(help: "The analysis thresholds written with the weights (scripts/calibrate-thresholds.py calibrates them).")
    var clusterThreshold = 0.98
    @Option var rubricThreshold = 0.9

    func run() throws {
        guard ["none", "argkp"].contains(adapter) else { throw EvalError("--adapter must be none or argkp, not \(adapter)") }
        let tuned = adapter == "argkp"
        let encoder = try loadEncoder(adapter: tuned ? .argKP : nil)
        var trainData = try KPAData(directory: dataDir, split: "train")
        if fitTopics > 0 {
            let topics = trainData.topics
            guard fitTopics < topics.count else { throw EvalError("--fit-topics must be below the \(topics.count) train topics") }
            trainData = trainData.keeping(topics: Set(topics.suffix(fitTopics)))
        }
        let train = KPAEvidence(data: trainData, encoder: encoder)
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
        // alpha up to 1 (the embedding cosine alone): with a tuned encoder the lexical evidence may not help.
        for alpha in (3...10).map({ Double($0) / 10 }) {
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
        var matcher = KeyPointMatcher(weights: direction.map { $0 * scale }, bias: bias, provenance: "",
                                      clusterThreshold: clusterThreshold, rubricThreshold: rubricThreshold)
        let dev = KPAEvidence(data: try KPAData(directory: dataDir, split: "dev"), encoder: encoder)
        let scores = KPAEvidence.scores(dev.predictions(matcher.score), data: dev.data)
        print(String(format: "  calibrated: scale=%.3f bias=%.3f; dev:", scale, bias))
        print(scores.summary)
        let options = (tuned ? " --adapter argkp" : "") + (fitTopics > 0 ? " --fit-topics \(fitTopics)" : "")
            + (clusterThreshold != 0.98 || rubricThreshold != 0.9
               ? " --cluster-threshold \(clusterThreshold) --rubric-threshold \(rubricThreshold)" : "")
        matcher.provenance = "converge-eval kpa-train ../shared/corpus/argkp --seed \(seed) --epochs \(epochs)\(options): "
            + String(format: "mix alpha=%.2f beta=%.2f coverage=%.2f chosen on ArgKP train%@ (mAP strict=%.3f relaxed=%.3f); ",
                     chosen.alpha, chosen.beta, chosen.c, fitTopics > 0 ? " (last \(fitTopics) topics)" : "",
                     chosen.map.strict, chosen.map.relaxed)
            + String(format: "dev mAP strict=%.3f relaxed=%.3f (current metric), %.3f / %.3f (leaderboard metric)",
                     scores.current.strict, scores.current.relaxed, scores.leaderboard.strict, scores.leaderboard.relaxed)
        let file = output ?? (tuned ? "Sources/ConvergeAnalysis/KeyPointMatcherWeights+ArgKP.swift"
                                    : "Sources/ConvergeAnalysis/KeyPointMatcherWeights.swift")
        try AtomicFile.write(Trainer.swiftSource(matcher, enumName: tuned ? "KeyPointMatcherArgKPWeights" : "KeyPointMatcherWeights",
                                                 constant: tuned ? "miniLMArgKP" : "miniLM"), to: file)
        print("wrote \(file): \(matcher.provenance)")
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

    static func swiftSource(_ matcher: KeyPointMatcher, enumName: String, constant: String) -> String {
        func f(_ x: Double) -> String { String(format: "%.6g", x) }
        return """
        // Generated by `converge-eval kpa-train`; do not edit.
        // \(matcher.provenance)
        enum \(enumName) {
            static let \(constant) = KeyPointMatcher(
                weights: [\(matcher.weights.map(f).joined(separator: ", "))], bias: \(f(matcher.bias)),
                provenance: \(String(reflecting: matcher.provenance)),
                clusterThreshold: \(f(matcher.clusterThreshold)), rubricThreshold: \(f(matcher.rubricThreshold)))
        }

        """
    }
}
