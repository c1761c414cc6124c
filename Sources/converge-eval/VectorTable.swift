import ConvergeAnalysis
import ConvergeCore
import Foundation
import Synchronization

/// Sentence vectors computed outside Converge (`scripts/encode-vectors.py`), so that a model the native encoder
/// does not run yet can be measured on ArgKP and the consolidation golds before it is ported. Development only:
/// `converge-eval` reads it when `CONVERGE_EVAL_VECTORS=FILE` is set (`kpa-predict`, `kpa-train`, `consolidation`).
///
/// FILE is JSON `{"model": NAME, "dimension": D, "vectors": {KEY: base64 of D little-endian Float32}}`, KEY a
/// text, or context + U+001F + text for a text read in a context. Texts asked for and absent are collected, and
/// `finish()` adds them to FILE.missing.json (`[text]`, or `[context, text]` for a text read in a context) and fails, so that the script
/// can encode them and the command be run again; until then a missing text reads as a zero vector.
final class VectorTable: SentenceEncoder {
    let modelName: String
    let dimension: Int
    let path: String
    private let vectors: [String: [Float]]
    private struct Missing {
        var keys: Set<String> = []
        var items: [[String]] = []
    }
    private let missing = Mutex(Missing())

    /// The table named by `CONVERGE_EVAL_VECTORS`, or nil when it is unset or empty.
    /// - Throws: `EvalError` naming the file and what is wrong with it.
    static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> VectorTable? {
        guard let path = environment["CONVERGE_EVAL_VECTORS"], !path.isEmpty else { return nil }
        return try VectorTable(path: path)
    }

    init(path: String) throws {
        struct File: Decodable {
            var model: String
            var dimension: Int
            var vectors: [String: String]
        }
        guard let bytes = FileManager.default.contents(atPath: path) else {
            throw EvalError("CONVERGE_EVAL_VECTORS=\(path): cannot be read (make it with scripts/encode-vectors.py)")
        }
        let file: File
        do { file = try JSONDecoder().decode(File.self, from: bytes) } catch {
            throw EvalError("CONVERGE_EVAL_VECTORS=\(path): not a vector table (\(error))")
        }
        var vectors: [String: [Float]] = [:]
        for (key, base64) in file.vectors {
            guard let data = Data(base64Encoded: base64), data.count == file.dimension * 4 else {
                throw EvalError("CONVERGE_EVAL_VECTORS=\(path): the vector of \(key.prefix(60).debugDescription) "
                                + "is not \(file.dimension) base64 float32")
            }
            vectors[key] = data.withUnsafeBytes { raw in
                (0..<file.dimension).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
            }
        }
        self.path = path
        self.modelName = file.model
        self.dimension = file.dimension
        self.vectors = vectors
    }

    func encode(_ texts: [String]) -> [[Float]] { encode(texts, context: nil) }

    func encode(_ texts: [String], context: String?) -> [[Float]] {
        texts.map { text in
            let key = context.map { $0 + "\u{1F}" + text } ?? text
            if let vector = vectors[key] { return vector }
            missing.withLock { state in
                if state.keys.insert(key).inserted { state.items.append(context.map { [$0, text] } ?? [text]) }
            }
            return [Float](repeating: 0, count: dimension)
        }
    }

    /// Fails when any text was missing, after writing them to FILE.missing.json.
    /// - Throws: `EvalError` saying how many texts are missing and the command that encodes them.
    func finish() throws {
        var items = missing.withLock { $0.items }
        guard !items.isEmpty else { return }
        // Another command's misses not encoded yet are kept.
        if let bytes = FileManager.default.contents(atPath: path + ".missing.json"),
           let earlier = try? JSONDecoder().decode([[String]].self, from: bytes) {
            let new = Set(items)
            items = earlier.filter { !new.contains($0) } + items
        }
        try AtomicFile.write(String(decoding: try JSONEncoder().encode(items), as: UTF8.self), to: path + ".missing.json")
        throw EvalError("\(items.count) texts have no vector in \(path); encode them with "
                        + "`python3 scripts/encode-vectors.py MODEL_DIR \(path)` and run the command again")
    }
}

/// Development overrides of `converge-eval` for measuring an encoder from a `VectorTable`, read from the
/// environment: `CONVERGE_EVAL_MATCHER` (the hybrid matcher's five weights and bias, comma-separated, as
/// `kpa-train` prints them), `CONVERGE_EVAL_CLUSTER_THRESHOLD` (the clustering threshold of embedding or hybrid
/// matching, for a sweep).
enum EvalOverrides {
    /// - Throws: `EvalError` when the variable is set and is not six numbers.
    static func matcher(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> KeyPointMatcher? {
        guard let text = environment["CONVERGE_EVAL_MATCHER"], !text.isEmpty else { return nil }
        let numbers = text.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard numbers.count == 6 else {
            throw EvalError("CONVERGE_EVAL_MATCHER=\(text): give five weights and a bias, comma-separated")
        }
        return KeyPointMatcher(weights: Array(numbers.prefix(5)), bias: numbers[5], provenance: "CONVERGE_EVAL_MATCHER")
    }

    /// - Throws: `EvalError` when the variable is set and is not a number in (0, 1].
    static func clusterThreshold(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Double? {
        guard let text = environment["CONVERGE_EVAL_CLUSTER_THRESHOLD"], !text.isEmpty else { return nil }
        guard let value = Double(text), value > 0, value <= 1 else {
            throw EvalError("CONVERGE_EVAL_CLUSTER_THRESHOLD=\(text): give a number in (0, 1]")
        }
        return value
    }
}
