import Foundation
import Synchronization

/// One Server-Sent Event: a name and one line of JSON data (HTML Living Standard, "Server-sent events").
struct ServerSentEvent: Sendable, Hashable {
    var name: String
    var data: String

    /// `event: NAME\ndata: JSON\n\n` as UTF-8. JSON has no raw line breaks, so `data` is one line.
    var bytes: ArraySlice<UInt8> { ArraySlice("event: \(name)\ndata: \(data)\n\n".utf8) }

    /// The event with `value` encoded as compact JSON (keys sorted).
    static func json(_ name: String, _ value: some Encodable) -> ServerSentEvent {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        let data = (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return ServerSentEvent(name: name, data: data)
    }
}

/// Fans one survey run's events out to every connected client.
///
/// A subscriber gets every event published after it subscribed, then the final event, then the end of its
/// stream. Subscribing after the run ended gives the final event at once. Buffers are unbounded: a run publishes
/// a bounded number of events (a few per request).
final class SurveyEventHub: Sendable {
    private struct State {
        var subscribers: [UInt64: AsyncStream<ServerSentEvent>.Continuation] = [:]
        var next: UInt64 = 0
        var final: ServerSentEvent?
    }

    private let state = Mutex(State())

    func subscribe() -> AsyncStream<ServerSentEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: ServerSentEvent.self, bufferingPolicy: .unbounded)
        let final: ServerSentEvent? = state.withLock { state in
            if let final = state.final { return final }
            let id = state.next
            state.next += 1
            state.subscribers[id] = continuation
            continuation.onTermination = { [weak self] _ in
                _ = self?.state.withLock { $0.subscribers.removeValue(forKey: id) }
            }
            return nil
        }
        if let final {
            continuation.yield(final)
            continuation.finish()
        }
        return stream
    }

    func publish(_ event: ServerSentEvent) {
        let subscribers = state.withLock { Array($0.subscribers.values) }
        for subscriber in subscribers { subscriber.yield(event) }
    }

    /// Sends `event` as the last one and ends every stream; later subscribers get only `event`.
    func finish(with event: ServerSentEvent) {
        let subscribers = state.withLock { state -> [AsyncStream<ServerSentEvent>.Continuation] in
            state.final = event
            defer { state.subscribers = [:] }
            return Array(state.subscribers.values)
        }
        for subscriber in subscribers {
            subscriber.yield(event)
            subscriber.finish()
        }
    }
}
