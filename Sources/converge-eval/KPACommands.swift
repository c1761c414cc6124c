import ArgumentParser
import ConvergeAnalysis
import ConvergeCore
import ConvergeEmbeddings
import ConvergeTestSupport
import Foundation

/// Loads the installed all-MiniLM-L6-v2, or exits with the loader's message.
func loadEncoder(batchSize: Int = 64) throws -> SentenceEmbeddingModel {
    do {
        return try ModelStore().load(batchSize: batchSize)
    } catch let error as EmbeddingModelError {
        throw ValidationError(error.description)
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
    @Option(help: "lexical (TF-IDF cosine), embedding (MiniLM cosine), average (their mean), hybrid (the learned matcher).")
    var similarity: String = "hybrid"

    func run() throws {
        guard let kind = KPASimilarity(rawValue: similarity) else {
            throw ValidationError("--similarity must be one of \(KPASimilarity.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let data = try KPAData(directory: dataDir, split: split)
        let evidence = KPAEvidence(data: data, encoder: kind.needsEncoder ? try loadEncoder() : nil)
        let predictions = evidence.predictions(kind.scorer(matcher: .miniLM))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try AtomicFile.write(String(decoding: try encoder.encode(predictions), as: UTF8.self), to: output)
        let map = KPAEvidence.score(predictions, data: data)
        print("wrote \(predictions.count) arguments to \(output) (\(similarity)); "
              + String(format: "mAP strict=%.3f relaxed=%.3f", map.strict, map.relaxed))
    }
}

/// `converge-eval kpa-score DATA_DIR SPLIT preds.json`: prints `mAP strict=X relaxed=Y`.
struct KPAScore: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kpa-score", abstract: "KPA-2021 track 1 mAP (strict and relaxed) of a predictions file.")

    @Argument(help: "ArgKP folder.") var dataDir: String
    @Argument(help: "Split: train or dev.") var split: String
    @Argument(help: "Predictions: {arg_id: {key_point_id: score}}.") var predictions: String

    func run() throws {
        let data = try KPAData(directory: dataDir, split: split)
        guard let bytes = FileManager.default.contents(atPath: predictions) else {
            throw ValidationError("\(predictions): cannot be read")
        }
        let decoded: [String: [String: Double]]
        do {
            decoded = try JSONDecoder().decode([String: [String: Double]].self, from: bytes)
        } catch {
            throw ValidationError("\(predictions): not {arg_id: {key_point_id: score}} (\(error))")
        }
        let map = KPAEvidence.score(decoded, data: data)
        print(String(format: "mAP strict=%.3f relaxed=%.3f", map.strict, map.relaxed))
    }
}

/// `converge-eval kpa-train DATA_DIR --seed 1 --output FILE`: fits the learned matcher on ArgKP train (logistic
/// regression over `MatchEvidence`, minibatch Adam with a seeded shuffle), picks the L2 strength by dev strict
/// mAP, and writes the weights as Swift source.
struct KPATrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kpa-train", abstract: "Train the key point matcher on ArgKP train, tuned on dev.")

    @Argument(help: "ArgKP folder.") var dataDir: String
    @Option(help: "Random seed (minibatch order).") var seed: UInt64 = 1
    @Option(help: "Epochs per fit.") var epochs = 40
    @Option(help: "Swift file to write the weights to.")
    var output = "Sources/ConvergeAnalysis/KeyPointMatcherWeights.swift"

    func run() throws {
        let encoder = try loadEncoder()
        let train = KPAEvidence(data: try KPAData(directory: dataDir, split: "train"), encoder: encoder)
        let dev = KPAEvidence(data: try KPAData(directory: dataDir, split: "dev"), encoder: encoder)
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
        var best: (KeyPointMatcher, Double, Double, Double)?
        for lambda in [1e-2, 1e-3, 1e-4] {
            let matcher = Trainer.fit(xs, ys, lambda: lambda, epochs: epochs, seed: seed)
            let map = KPAEvidence.score(dev.predictions(matcher.score), data: dev.data)
            let trainMap = KPAEvidence.score(train.predictions(matcher.score), data: train.data)
            print(String(format: "  lambda=%g  train mAP strict=%.3f relaxed=%.3f  dev mAP strict=%.3f relaxed=%.3f",
                         lambda, trainMap.strict, trainMap.relaxed, map.strict, map.relaxed))
            if best == nil || map.strict > best!.1 { best = (matcher, map.strict, map.relaxed, lambda) }
        }
        var (matcher, strict, relaxed, lambda) = best!
        matcher.provenance = "converge-eval kpa-train ../shared/corpus/argkp --seed \(seed) --epochs \(epochs): "
            + "ArgKP train, L2 \(lambda) chosen on dev; " + String(format: "dev mAP strict=%.3f relaxed=%.3f", strict, relaxed)
        try AtomicFile.write(Trainer.swiftSource(matcher), to: output)
        print("wrote \(output): \(matcher.provenance)")
    }
}

/// Logistic regression by minibatch Adam.
enum Trainer {
    static func fit(_ xs: [MatchEvidence], _ ys: [Double], lambda: Double, epochs: Int, seed: UInt64) -> KeyPointMatcher {
        let d = xs[0].products.count
        let width = d + 3  // products, lexical cosine, coverage, bias
        var features = [Double](repeating: 0, count: xs.count * width)
        for (i, x) in xs.enumerated() {
            for j in 0..<d { features[i * width + j] = Double(x.products[j]) }
            features[i * width + d] = x.lexicalCosine
            features[i * width + d + 1] = x.coverage
            features[i * width + d + 2] = 1
        }
        // Start from a uniform dimension weight (a scaled cosine); L2 pulls the dimension weights towards their
        // mean, so that with strong regularisation the model is a calibrated cosine plus lexical evidence.
        var w = [Double](repeating: 0, count: width)
        for j in 0..<d { w[j] = 5 }
        w[d + 2] = -3
        var m = [Double](repeating: 0, count: width), v = [Double](repeating: 0, count: width)
        var generator = SeededGenerator(seed: seed)
        var order = Array(xs.indices)
        let batch = 256, rate = 0.02, beta1 = 0.9, beta2 = 0.999
        var step = 0.0
        var gradient = [Double](repeating: 0, count: width)
        features.withUnsafeBufferPointer { f in
            for _ in 0..<epochs {
                order.shuffle(using: &generator)
                var start = 0
                while start < order.count {
                    let end = min(start + batch, order.count)
                    for j in 0..<width { gradient[j] = 0 }
                    for i in order[start..<end] {
                        let row = f.baseAddress! + i * width
                        var z = 0.0
                        for j in 0..<width { z += w[j] * row[j] }
                        let error = 1 / (1 + exp(-z)) - ys[i]
                        for j in 0..<width { gradient[j] += error * row[j] }
                    }
                    let n = Double(end - start)
                    var mean = 0.0
                    for j in 0..<d { mean += w[j] }
                    mean /= Double(d)
                    step += 1
                    for j in 0..<width {
                        var g = gradient[j] / n
                        if j < d { g += lambda * (w[j] - mean) * Double(d) }
                        m[j] = beta1 * m[j] + (1 - beta1) * g
                        v[j] = beta2 * v[j] + (1 - beta2) * g * g
                        let mh = m[j] / (1 - pow(beta1, step)), vh = v[j] / (1 - pow(beta2, step))
                        w[j] -= rate * mh / (vh.squareRoot() + 1e-8)
                    }
                    start = end
                }
            }
        }
        return KeyPointMatcher(dimensionWeights: Array(w[0..<d]), lexicalWeight: w[d], coverageWeight: w[d + 1],
                               bias: w[d + 2], provenance: "")
    }

    static func swiftSource(_ matcher: KeyPointMatcher) -> String {
        func f(_ x: Double) -> String { String(format: "%.6g", x) }
        var lines: [String] = []
        var row: [String] = []
        for w in matcher.dimensionWeights {
            row.append(f(w))
            if row.count == 10 { lines.append("        " + row.joined(separator: ", ") + ","); row = [] }
        }
        if !row.isEmpty { lines.append("        " + row.joined(separator: ", ") + ",") }
        return """
        // Generated by `converge-eval kpa-train`; do not edit. \(matcher.provenance)
        enum KeyPointMatcherWeights {
            static let miniLM = KeyPointMatcher(
                dimensionWeights: [
        \(lines.joined(separator: "\n"))
                ],
                lexicalWeight: \(f(matcher.lexicalWeight)), coverageWeight: \(f(matcher.coverageWeight)), bias: \(f(matcher.bias)),
                provenance: \(String(reflecting: matcher.provenance)))
        }

        """
    }
}
