import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// The wire formats the test server speaks, told apart by the request path.
package enum WireFormat: String, Sendable, Hashable {
    /// `POST .../chat/completions` (OpenAI-compatible).
    case openAI
    /// `POST .../v1/messages` (Anthropic).
    case anthropic
    /// `POST .../models/{model}:generateContent` (Gemini).
    case gemini
}

/// What the server does with one request. Scripts are lists of steps, one per request to a model; the last
/// step repeats once the others are used up.
package struct ScriptStep: Sendable {
    package enum Action: Sendable {
        /// 200 with an answer in the request's wire format; `nil` text means the default answer:
        /// `answer N from MODEL to: LAST USER MESSAGE` (N counts this model's requests from 1).
        case answer(String?)
        /// An error status with a body in the wire format's error shape.
        case status(Int, message: String)
        /// A 401 whose message quotes the credentials the request carried (to test that clients scrub keys).
        case echoCredentials
        /// 200 with a `content-length` of the full answer, half the body, then the connection closed.
        case cutMidBody
        /// 200 with a body that is not JSON.
        case malformedJSON
        /// 200 with an empty choice list (`choices: []`, `content: []`, `candidates: []`).
        case emptyChoices
        /// Never answers (until the client gives up or the server shuts down).
        case hang
        /// `307 Temporary Redirect` to `location` + the request's path (to test that clients don't follow it).
        case redirect(location: String)
    }

    package var action: Action
    /// Seconds to wait before answering.
    package var delay: Double
    /// A `Retry-After` header value to send (`"1"`, an HTTP-date), if any.
    package var retryAfter: String?
    /// The step waits until the test opens this gate (``ProviderTestServer/open(gate:)``), then its delay.
    package var gate: String?

    package init(_ action: Action, delay: Double = 0, retryAfter: String? = nil, gate: String? = nil) {
        self.action = action
        self.delay = delay
        self.retryAfter = retryAfter
        self.gate = gate
    }

    /// 200 with `text` once the test opens `gate`: the test decides when the answer arrives.
    package static func answer(_ text: String? = nil, after gate: String) -> ScriptStep {
        .init(.answer(text), gate: gate)
    }

    /// 200 with `text` (or the default answer) after `delay` seconds.
    package static func answer(_ text: String? = nil, delay: Double = 0) -> ScriptStep { .init(.answer(text), delay: delay) }
    /// An error `status`, with `Retry-After` when given.
    package static func status(_ status: Int, message: String = "scripted failure", retryAfter: String? = nil,
                              delay: Double = 0) -> ScriptStep {
        .init(.status(status, message: message), delay: delay, retryAfter: retryAfter)
    }
    package static let hang = ScriptStep(.hang)
    package static let cutMidBody = ScriptStep(.cutMidBody)
    package static let malformedJSON = ScriptStep(.malformedJSON)
    package static let emptyChoices = ScriptStep(.emptyChoices)
    package static let echoCredentials = ScriptStep(.echoCredentials)
    /// A 307 to the same path on another base URL.
    package static func redirect(to baseURL: String) -> ScriptStep { .init(.redirect(location: baseURL)) }
}

/// One message of a recorded request, in a form common to the three wire formats: role `system`, `user` or
/// `assistant` (Gemini's `model` is reported as `assistant`; Anthropic's `system` field and Gemini's
/// `systemInstruction` as a leading `system` message).
package struct RecordedMessage: Sendable, Hashable, CustomStringConvertible {
    package var role: String
    package var content: String

    package init(role: String, content: String) {
        self.role = role
        self.content = content
    }

    package var description: String { "\(role): \(content)" }
}

/// A request as the server received it.
package struct RecordedRequest: Sendable {
    package var method: String
    /// The request target (path and query).
    package var uri: String
    /// Headers in the order received (names as sent).
    package var headers: [(name: String, value: String)]
    package var body: Data
    /// The wire format the path names, if any.
    package var format: WireFormat?
    /// The model: the body's `model` (OpenAI, Anthropic) or the path's (Gemini).
    package var model: String?
    /// When the request's end arrived (server clock).
    package var receivedAt: Date

    /// The first value of a header, case-insensitively.
    package func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// The body parsed as JSON.
    package var json: JSONValue? { JSONValue(data: body) }

    /// The thread the request carried, normalised across wire formats (see ``RecordedMessage``).
    package var messages: [RecordedMessage] {
        guard let json else { return [] }
        switch format {
        case .openAI:
            return (json["messages"]?.array ?? []).map {
                RecordedMessage(role: $0["role"]?.string ?? "?", content: $0["content"]?.string ?? "")
            }
        case .anthropic:
            var result: [RecordedMessage] = []
            if let system = json["system"]?.string { result.append(RecordedMessage(role: "system", content: system)) }
            for message in json["messages"]?.array ?? [] {
                var content = message["content"]?.string
                if content == nil, let blocks = message["content"]?.array {
                    content = blocks.compactMap { $0["text"]?.string }.joined()
                }
                result.append(RecordedMessage(role: message["role"]?.string ?? "?", content: content ?? ""))
            }
            return result
        case .gemini:
            var result: [RecordedMessage] = []
            if let parts = json["systemInstruction"]?["parts"]?.array {
                result.append(RecordedMessage(role: "system", content: parts.compactMap { $0["text"]?.string }.joined()))
            }
            for content in json["contents"]?.array ?? [] {
                let role = content["role"]?.string == "model" ? "assistant" : (content["role"]?.string ?? "user")
                let text = (content["parts"]?.array ?? []).compactMap { $0["text"]?.string }.joined()
                result.append(RecordedMessage(role: role, content: text))
            }
            return result
        case nil:
            return []
        }
    }
}

/// A scriptable HTTP/1.1 server on 127.0.0.1 that speaks OpenAI Chat Completions, Anthropic Messages and
/// Gemini generateContent, for tests and benchmarks. It binds port 0 (the OS picks a free port) and records
/// every request.
///
/// ```swift
/// let server = try await ProviderTestServer.start()
/// server.script("gpt-x", [.status(429, retryAfter: "1"), .answer("hello")])
/// // point a client at server.baseURL (+ "/v1" for OpenAI-compatible clients)
/// let received = server.requests(model: "gpt-x")
/// try await server.shutdown()
/// ```
///
/// Routes: `POST {any prefix}/chat/completions`, `POST {any prefix}/v1/messages`,
/// `POST {any prefix}/models/{model}:generateContent`; anything else is 404. Answers carry a request id
/// (`x-request-id: req-N` for OpenAI, `request-id: req-N` for Anthropic, `responseId: resp-N` for Gemini),
/// usage (input tokens = words in the request's messages, output tokens = words in the answer) and a
/// finish reason (`stop`, `end_turn`, `STOP`).
package final class ProviderTestServer: Sendable {
    struct State {
        var scripts: [String: [ScriptStep]] = [:]
        var requests: [RecordedRequest] = []
        var countByModel: [String: Int] = [:]
        var inFlight = 0
        var maxInFlight = 0
        var inFlightByModel: [String: Int] = [:]
        var maxInFlightByModel: [String: Int] = [:]
        var sequence = 0
        var openGates: Set<String> = []
    }

    private let state = NIOLockedValueBox(State())
    private let listener: LoopbackListener

    /// The port the server listens on.
    package let port: Int
    /// `http://127.0.0.1:PORT`.
    package var baseURL: String { "http://127.0.0.1:\(port)" }

    private init(listener: LoopbackListener) {
        self.listener = listener
        self.port = listener.port
    }

    /// Starts a server on 127.0.0.1, port 0.
    package static func start() async throws -> ProviderTestServer {
        let listener = try await LoopbackListener.bind()
        let server = ProviderTestServer(listener: listener)
        listener.accept { await server.handle($0) }
        return server
    }

    /// Closes the listening socket and every connection (hanging requests included) and waits for them.
    package func shutdown() async throws {
        await listener.shutdown()
    }

    // MARK: scripting and inspection

    /// Sets the steps for requests to `model` (replacing any earlier script and its progress).
    package func script(_ model: String, _ steps: [ScriptStep]) {
        state.withLockedValue { $0.scripts[model] = steps }
    }

    /// Lets every request held by a step with this `gate` go on (and any later one).
    package func open(gate: String) {
        _ = state.withLockedValue { $0.openGates.insert(gate) }
    }

    /// Every request received, in arrival order.
    package var requests: [RecordedRequest] { state.withLockedValue { $0.requests } }

    /// The requests for one model, in arrival order.
    package func requests(model: String) -> [RecordedRequest] { requests.filter { $0.model == model } }

    /// The most requests that were being handled at once (received and not yet answered or abandoned).
    package var maxConcurrentRequests: Int { state.withLockedValue { $0.maxInFlight } }

    /// The most requests for `model` handled at once.
    package func maxConcurrentRequests(model: String) -> Int {
        state.withLockedValue { $0.maxInFlightByModel[model] ?? 0 }
    }

    /// Forgets the recorded requests and concurrency peaks (scripts are kept).
    package func resetRecords() {
        state.withLockedValue {
            $0.requests = []
            $0.maxInFlight = 0
            $0.maxInFlightByModel = [:]
            $0.countByModel = [:]
        }
    }

    // MARK: serving

    private func handle(_ connection: LoopbackListener.Connection) async {
        do {
            try await connection.executeThenClose { inbound, outbound in
                var head: HTTPRequestHead?
                var body = ByteBuffer()
                for try await part in inbound {
                    switch part {
                    case .head(let requestHead):
                        head = requestHead
                        body.clear()
                    case .body(var chunk):
                        body.writeBuffer(&chunk)
                    case .end:
                        guard let requestHead = head else { continue }
                        let keepGoing = try await respond(to: requestHead, body: Data(body.readableBytesView),
                                                          outbound: outbound)
                        if !keepGoing { return }
                    }
                }
            }
        } catch {
            // A client that went away, or shutdown; nothing to do.
        }
    }

    /// Handles one request; returns `false` when the connection must be closed.
    private func respond(to head: HTTPRequestHead, body: Data,
                         outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>) async throws -> Bool {
        let path = String(head.uri.split(separator: "?", maxSplits: 1).first ?? "")
        var format: WireFormat?
        var model: String?
        let json = JSONValue(data: body)
        if path.hasSuffix("/chat/completions") {
            format = .openAI
            model = json?["model"]?.string
        } else if path.hasSuffix("/v1/messages") || path == "/messages" {
            format = .anthropic
            model = json?["model"]?.string
        } else if path.hasSuffix(":generateContent"), let range = path.range(of: "/models/") {
            format = .gemini
            let rest = path[range.upperBound...].dropLast(":generateContent".count)
            model = String(rest).removingPercentEncoding ?? String(rest)
        }
        let record = RecordedRequest(method: head.method.rawValue, uri: head.uri,
                                     headers: head.headers.map { ($0.name, $0.value) }, body: body,
                                     format: format, model: model, receivedAt: Date())
        let modelKey = model ?? ""
        let (step, number, sequence): (ScriptStep, Int, Int) = state.withLockedValue { state in
            state.requests.append(record)
            state.sequence += 1
            state.countByModel[modelKey, default: 0] += 1
            state.inFlight += 1
            state.maxInFlight = max(state.maxInFlight, state.inFlight)
            state.inFlightByModel[modelKey, default: 0] += 1
            state.maxInFlightByModel[modelKey] = max(state.maxInFlightByModel[modelKey] ?? 0,
                                                     state.inFlightByModel[modelKey]!)
            var step = ScriptStep.answer()
            if var steps = state.scripts[modelKey], !steps.isEmpty {
                step = steps.count > 1 ? steps.removeFirst() : steps[0]
                state.scripts[modelKey] = steps
            }
            return (step, state.countByModel[modelKey]!, state.sequence)
        }
        defer {
            state.withLockedValue { state in
                state.inFlight -= 1
                state.inFlightByModel[modelKey, default: 1] -= 1
            }
        }

        guard head.method == .POST, let format else {
            try await write(status: .notFound, body: Data(#"{"error":{"message":"no such route"}}"#.utf8),
                            headers: [], outbound: outbound)
            return true
        }
        if case .hang = step.action {
            try await Task.sleep(for: .seconds(3600))
            return false
        }
        if let gate = step.gate {
            while !state.withLockedValue({ $0.openGates.contains(gate) }) {
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        if step.delay > 0 { try await Task.sleep(for: .milliseconds(Int(step.delay * 1000))) }

        var headers: [(String, String)] = []
        if let retryAfter = step.retryAfter { headers.append(("retry-after", retryAfter)) }
        switch step.action {
        case .answer(let text):
            let lastUser = record.messages.last { $0.role == "user" }?.content ?? ""
            let answer = text ?? "answer \(number) from \(modelKey) to: \(lastUser)"
            let inputWords = record.messages.reduce(0) { $0 + Self.words($1.content) }
            let (bodyData, extra) = Self.answerBody(format: format, model: modelKey, text: answer,
                                                    inputTokens: inputWords, outputTokens: Self.words(answer),
                                                    sequence: sequence)
            try await write(status: .ok, body: bodyData, headers: headers + extra, outbound: outbound)
        case .status(let code, let message):
            try await write(status: HTTPResponseStatus(statusCode: code),
                            body: Self.errorBody(format: format, status: code, message: message),
                            headers: headers, outbound: outbound)
        case .echoCredentials:
            let quoted = ["authorization", "x-api-key", "x-goog-api-key"].compactMap { record.header($0) }
                .joined(separator: " ")
            try await write(status: .unauthorized,
                            body: Self.errorBody(format: format, status: 401,
                                                 message: "Incorrect API key provided: \(quoted)"),
                            headers: headers, outbound: outbound)
        case .malformedJSON:
            try await write(status: .ok, body: Data(#"{"id": "broken", "choices": [ {"message": "#.utf8),
                            headers: headers, outbound: outbound)
        case .emptyChoices:
            let body: String
            switch format {
            case .openAI:
                body = #"{"id":"chatcmpl-empty","object":"chat.completion","model":"\#(modelKey)","choices":[],"#
                    + #""usage":{"prompt_tokens":1,"completion_tokens":0}}"#
            case .anthropic:
                body = #"{"id":"msg_empty","type":"message","role":"assistant","model":"\#(modelKey)","content":[],"#
                    + #""stop_reason":"end_turn","usage":{"input_tokens":1,"output_tokens":0}}"#
            case .gemini:
                body = #"{"candidates":[],"promptFeedback":{"blockReason":"OTHER"},"responseId":"resp-empty"}"#
            }
            try await write(status: .ok, body: Data(body.utf8), headers: headers, outbound: outbound)
        case .cutMidBody:
            let (full, _) = Self.answerBody(format: format, model: modelKey, text: "this answer is cut short " +
                                            String(repeating: "x", count: 200), inputTokens: 1, outputTokens: 1,
                                            sequence: sequence)
            var responseHead = HTTPResponseHead(version: .http1_1, status: .ok)
            responseHead.headers.add(name: "content-type", value: "application/json")
            responseHead.headers.add(name: "content-length", value: "\(full.count)")
            try await outbound.write(.head(responseHead))
            try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: full.prefix(full.count / 2)))))
            try await Task.sleep(for: .milliseconds(50)) // let the half body go out before the close
            return false
        case .redirect(let location):
            try await write(status: .temporaryRedirect, body: Data(),
                            headers: headers + [("location", location + head.uri)], outbound: outbound)
        case .hang:
            return false
        }
        return true
    }

    private func write(status: HTTPResponseStatus, body: Data, headers: [(String, String)],
                       outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>) async throws {
        var head = HTTPResponseHead(version: .http1_1, status: status)
        head.headers.add(name: "content-type", value: "application/json")
        head.headers.add(name: "content-length", value: "\(body.count)")
        for (name, value) in headers { head.headers.add(name: name, value: value) }
        try await outbound.write(.head(head))
        try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: body))))
        try await outbound.write(.end(nil))
    }

    static func words(_ text: String) -> Int {
        text.split(whereSeparator: { $0.isWhitespace }).count
    }

    static func json(_ object: [String: Any]) -> Data {
        (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
    }

    static func answerBody(format: WireFormat, model: String, text: String, inputTokens: Int, outputTokens: Int,
                           sequence: Int) -> (Data, [(String, String)]) {
        switch format {
        case .openAI:
            return (json([
                "id": "chatcmpl-\(sequence)", "object": "chat.completion", "created": 1_700_000_000, "model": model,
                "choices": [["index": 0, "message": ["role": "assistant", "content": text], "finish_reason": "stop"]],
                "usage": ["prompt_tokens": inputTokens, "completion_tokens": outputTokens,
                          "total_tokens": inputTokens + outputTokens],
            ]), [("x-request-id", "req-\(sequence)")])
        case .anthropic:
            return (json([
                "id": "msg_\(sequence)", "type": "message", "role": "assistant", "model": model,
                "content": [["type": "text", "text": text]], "stop_reason": "end_turn",
                "usage": ["input_tokens": inputTokens, "output_tokens": outputTokens],
            ]), [("request-id", "req-\(sequence)")])
        case .gemini:
            return (json([
                "candidates": [["content": ["role": "model", "parts": [["text": text]]], "finishReason": "STOP",
                                "index": 0]],
                "usageMetadata": ["promptTokenCount": inputTokens, "candidatesTokenCount": outputTokens,
                                  "totalTokenCount": inputTokens + outputTokens],
                "modelVersion": model, "responseId": "resp-\(sequence)",
            ]), [])
        }
    }

    static func errorBody(format: WireFormat, status: Int, message: String) -> Data {
        switch format {
        case .openAI:
            return json(["error": ["message": message, "type": status == 429 ? "rate_limit_exceeded" : "api_error",
                                   "code": NSNull()]])
        case .anthropic:
            let type = status == 429 ? "rate_limit_error" : status == 401 ? "authentication_error"
                : status >= 500 ? "api_error" : "invalid_request_error"
            return json(["type": "error", "error": ["type": type, "message": message]])
        case .gemini:
            let name = status == 429 ? "RESOURCE_EXHAUSTED" : status >= 500 ? "INTERNAL" : "INVALID_ARGUMENT"
            return json(["error": ["code": status, "message": message, "status": name]])
        }
    }
}
