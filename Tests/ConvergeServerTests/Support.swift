import ConvergeCore
import Foundation
import Hummingbird
import HummingbirdTesting
import InMemoryLogging
import Logging
@testable import ConvergeServer

enum Fixture {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let example = repo.appendingPathComponent("examples/senior-backend")
    static let token = "test-token-0123456789abcdef"
    static let otherToken = "second-token-fedcba9876543210"

    /// The example survey as `converge analyze` reads it.
    static func exampleInput() throws -> AnalysisInput {
        try SurveyFolder.load(paths: [example.path], promptFile: nil, rubricFile: nil, useFolderRubric: true)
    }

    /// A `POST /v1/analyses` body for the example: its answers, prompt and rubric YAML text.
    static func exampleRequest(blind: Bool = false) throws -> [String: Any] {
        let input = try exampleInput()
        var body: [String: Any] = [
            "answers": input.answers.map { ["panelist": $0.panelist.id, "text": $0.text] },
            "rubric": try String(contentsOf: example.appendingPathComponent("rubric.yaml"), encoding: .utf8),
        ]
        if let prompt = input.prompt { body["prompt"] = prompt }
        if blind { body["blind"] = true }
        return body
    }

    static func json(_ object: Any) throws -> ByteBuffer {
        ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: object))
    }

    static func object(_ buffer: ByteBuffer) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView))) as? [String: Any]
    }

    /// `error.code`, `error.message` and `error.field` of an error response, if it has the error shape.
    static func error(_ buffer: ByteBuffer) -> (code: String, message: String, field: String?)? {
        guard let error = object(buffer)?["error"] as? [String: Any], let code = error["code"] as? String,
              let message = error["message"] as? String else { return nil }
        return (code, message, error["field"] as? String)
    }

    static func app(tokens: [String] = [], maxBodyBytes: Int = ServerConfiguration.defaultMaxBodyBytes,
                    logs: LogCapture? = nil) throws -> some ApplicationProtocol {
        let configuration = ServerConfiguration(
            host: "127.0.0.1", port: 0, tokens: try APITokens(parsing: tokens.joined(separator: ",")),
            maxBodyBytes: maxBodyBytes)
        var logger = Logger(label: "converge.test") { _ in (logs ?? LogCapture()).handler }
        logger.logLevel = .trace
        return try ServerRoot(configuration: configuration, logger: logger).application
    }

    static func bearer(_ token: String) -> HTTPFields { [.authorization: "Bearer \(token)"] }
    static let jsonHeaders: HTTPFields = [.contentType: "application/json"]
}

/// Every log line of an application, to check what the server logs: swift-log's `InMemoryLogHandler`, at every
/// level (copies of the handler share their entries).
struct LogCapture: Sendable {
    let handler: InMemoryLogHandler = {
        var handler = InMemoryLogHandler()
        handler.logLevel = .trace
        return handler
    }()

    /// One line an entry: level, message and all metadata.
    var text: String {
        handler.entries.map { "\($0.level) \($0.message) \($0.metadata)" }.joined(separator: "\n")
    }
}

/// Text that arrives in pieces from concurrent callbacks (a streaming body, responses seen), and whether it ended.
final class Collected: @unchecked Sendable {
    private let lock = NSLock()
    private var value = ""
    private var ended = false
    func append(_ text: String) { lock.withLock { value += text } }
    func end() { lock.withLock { ended = true } }
    var text: String { lock.withLock { value } }
    var isEnded: Bool { lock.withLock { ended } }
}
