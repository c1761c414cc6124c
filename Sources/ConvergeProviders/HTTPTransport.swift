import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// A finished HTTP exchange: the status, headers and whole body, and how long it took.
public struct HTTPResult: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: Data
    /// From sending the request to receiving the last byte of the body, milliseconds.
    public var latencyMs: Int

    package init(status: Int, headers: HTTPHeaders, body: Data, latencyMs: Int) {
        self.status = status
        self.headers = headers
        self.body = body
        self.latencyMs = latencyMs
    }
}

/// POSTs JSON over AsyncHTTPClient with a deadline, and turns everything that can go wrong into
/// ``ProviderError`` with secrets scrubbed. One instance is shared by all providers.
public struct HTTPTransport: Sendable {
    /// The client; ``sharedClient`` by default.
    public let client: HTTPClient
    /// The largest response body read, in bytes.
    public var maxResponseBytes: Int
    public var logger: Logger

    /// The process-wide client the providers use unless given another: HTTP redirects are **not** followed
    /// (AsyncHTTPClient drops `Authorization` on a cross-origin redirect but would forward `x-api-key` and
    /// `x-goog-api-key`; a 3xx is reported as an HTTP error instead), connect timeout 10 s, no silent
    /// re-dialling of refused connections, idle pooled connections closed after 60 s, no proxy. It lives for
    /// the whole process and is never shut down.
    public static let sharedClient: HTTPClient = {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(10)),
            decompression: .disabled)
        // The runner's semaphores are the concurrency limits (--concurrency, per provider); AsyncHTTPClient's
        // default of 8 HTTP/1 connections per host would quietly queue the rest (10 panelists at 1 s took 2 s).
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 512)
        // A refused connection fails the request at once (the runner's RetryPolicy decides about retrying)
        // instead of AsyncHTTPClient re-dialling silently until the request's deadline.
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    public init(client: HTTPClient = HTTPTransport.sharedClient, maxResponseBytes: Int = 16 << 20,
                logger: Logger = Logger(label: "converge.providers")) {
        self.client = client
        self.maxResponseBytes = maxResponseBytes
        self.logger = logger
    }

    /// POSTs `body` to `url` and returns the whole answer, whatever its status.
    ///
    /// - Parameters:
    ///   - url: the full URL (no secrets in it: keys go in headers).
    ///   - headers: request headers, the key's among them (headers are never logged).
    ///   - body: the JSON body.
    ///   - timeout: from sending to the end of the body.
    ///   - redactor: scrubs secrets out of any error text.
    /// - Throws: ``ProviderError/timeout(seconds:)``, ``ProviderError/connection(_:)`` (refused, reset, closed
    ///   mid-body, body too large), ``ProviderError/invalidConfiguration(_:)`` (bad URL),
    ///   ``ProviderError/cancelled``.
    public func postJSON(url: String, headers: [(String, String)], body: Data, timeout: Duration,
                         redactor: Redactor) async throws(ProviderError) -> HTTPResult {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.headers.add(name: "accept", value: "application/json")
        request.headers.add(name: "user-agent", value: "converge")
        for (name, value) in headers { request.headers.replaceOrAdd(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body))

        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        let nanos = Int64(min(seconds, RequestLimits.maxTimeoutSeconds) * 1e9)
        let clock = ContinuousClock()
        let start = clock.now
        logger.debug("POST", metadata: ["url": "\(url)", "bytes": "\(body.count)"])
        do {
            try Task.checkCancellation()
            let response = try await client.execute(request, deadline: .now() + .nanoseconds(nanos), logger: nil)
            let buffer = try await response.body.collect(upTo: maxResponseBytes)
            let elapsed = clock.now - start
            let ms = Int(elapsed.components.seconds * 1000) + Int(elapsed.components.attoseconds / 1_000_000_000_000_000)
            logger.debug("answer", metadata: ["url": "\(url)", "status": "\(response.status.code)", "ms": "\(ms)"])
            return HTTPResult(status: Int(response.status.code), headers: response.headers,
                              body: Data(buffer.readableBytesView), latencyMs: ms)
        } catch {
            throw Self.classify(error, timeoutSeconds: seconds, redactor: redactor)
        }
    }

    /// Maps AsyncHTTPClient / NIO errors to ``ProviderError``.
    static func classify(_ error: any Error, timeoutSeconds: Double, redactor: Redactor) -> ProviderError {
        if let error = error as? ProviderError { return error }
        if error is CancellationError || Task.isCancelled { return .cancelled }
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout, .writeTimeout:
                return .timeout(seconds: timeoutSeconds)
            case .cancelled:
                return Task.isCancelled ? .cancelled : .timeout(seconds: timeoutSeconds)
            case .invalidURL, .emptyHost, .emptyScheme:
                return .invalidConfiguration("bad URL (\(error.shortDescription))")
            case .connectTimeout:
                return .connection("could not connect in time")
            case .remoteConnectionClosed:
                return .connection("the server closed the connection")
            case .bodyLengthMismatch:
                return .connection("the connection ended before the whole body arrived")
            default:
                return .connection(redactor.redact(error.shortDescription))
            }
        }
        // Not a connection fault: asking again would fetch (and pay for) the same oversized answer.
        if error is NIOTooManyBytesError { return .malformedResponse("the response body is larger than the limit") }
        if let error = error as? IOError {
            return .connection("\(String(cString: strerror(error.errnoCode))) (errno \(error.errnoCode))")
        }
        if let error = error as? HTTPParserError {
            switch error {
            case .invalidEOFState: return .connection("the connection ended before the whole body arrived")
            default: return .connection("invalid HTTP from the server (\(error))")
            }
        }
        return .connection(redactor.redact(String(describing: error)))
    }
}

extension HTTPHeaders {
    /// The first value of `name` (case-insensitive), trimmed; `nil` when absent or blank.
    func value(_ name: String) -> String? {
        guard let value = self[name].first?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        return value
    }

    /// The server's requested delay in seconds: `retry-after-ms` (OpenAI, Anthropic SDK convention) else
    /// `Retry-After` (RFC 9110 §10.2.3, see ``RetryAfter``).
    func retryAfterSeconds(now: Date = Date()) -> Double? {
        if let ms = value("retry-after-ms"), let value = Double(ms), value >= 0, value.isFinite { return value / 1000 }
        if let header = value("retry-after") { return RetryAfter.parse(header, now: now) }
        return nil
    }
}
