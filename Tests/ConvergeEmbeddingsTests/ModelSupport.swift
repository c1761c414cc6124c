import ConvergeEmbeddings
import Foundation
import Testing

/// The installed all-MiniLM-L6-v2 the tests run against: `$CONVERGE_MINILM_DIR`, else wherever
/// `ModelStore` finds it (scripts/test installs it with `converge models install minilm`).
enum InstalledModel {
    static let directory: String? = {
        if let dir = ProcessInfo.processInfo.environment["CONVERGE_MINILM_DIR"], !dir.isEmpty { return dir }
        return ModelStore().locate()
    }()
    /// On CI the model must be there: tests that need it run (and fail when it is missing) instead of skipping.
    static let required = ProcessInfo.processInfo.environment["CI"] == "true"
    static let available = directory != nil || required
    static let skipReason: Comment = """
        SKIPPED LOUDLY: all-MiniLM-L6-v2 is not installed (run scripts/test, or `converge models install minilm`); \
        the embedding tests did not run
        """

    static let model: SentenceEmbeddingModel? = directory.flatMap { try? SentenceEmbeddingModel(directory: $0) }
}

enum Paths {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    /// ../shared/corpus beside the repository, or `$CONVERGE_CORPUS`.
    static let corpus = ProcessInfo.processInfo.environment["CONVERGE_CORPUS"].map { URL(fileURLWithPath: $0) }
        ?? repo.deletingLastPathComponent().appendingPathComponent("shared/corpus")
}

/// A reference vector as the fixtures keep it (`scripts/minilm-reference.py`): little-endian float32 bytes, base64.
func referenceVector(_ base64: String) -> [Float] {
    let data = Data(base64Encoded: base64)!
    return data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
}

/// A safetensors file with the given tensors (name → (shape, floats)), optionally with its data cut short.
func safetensorsBytes(_ tensors: [(String, [Int], [Float])], header override: String? = nil, truncate: Int = 0) -> Data {
    var offset = 0
    var entries: [String] = []
    var payload = Data()
    for (name, shape, values) in tensors {
        let bytes = values.withUnsafeBufferPointer { Data(buffer: $0) }
        entries.append("\"\(name)\":{\"dtype\":\"F32\",\"shape\":\(shape),\"data_offsets\":[\(offset),\(offset + bytes.count)]}")
        offset += bytes.count
        payload.append(bytes)
    }
    let header = Data((override ?? "{" + entries.joined(separator: ",") + "}").utf8)
    var length = UInt64(header.count).littleEndian
    var data = Data(bytes: &length, count: 8)
    data.append(header)
    data.append(payload)
    return data.prefix(data.count - truncate)
}

func temporaryDirectory() -> String {
    let dir = NSTemporaryDirectory() + "converge-embed-\(UUID().uuidString)"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}
