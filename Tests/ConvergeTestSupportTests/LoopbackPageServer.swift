import ConvergeTestSupport
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1

/// A small real HTTP/1.1 server on 127.0.0.1 (port 0) for the browser tests.
///
/// Routes: `GET /` the test page; `GET /data` a plain-text body (`loopback data`); `GET /hang` sends its head
/// and the start of a body promised to be longer, then holds the connection open until shutdown, so the page
/// never finishes loading; anything else 404. Every request path is recorded.
final class LoopbackPageServer: Sendable {
    /// The test page: title `CDP test page`; `#status` reads `waiting` and becomes `changed by timer` 1 s after
    /// load; logs `console.error("page error marker")` and throws `Error("uncaught marker")` from a timer.
    static let page = """
        <!doctype html>
        <html><head><meta charset="utf-8"><title>CDP test page</title></head>
        <body>
        <p id="status">waiting</p>
        <script>
        console.error("page error marker");
        window.addEventListener("load", function () {
          setTimeout(function () { document.getElementById("status").textContent = "changed by timer"; }, 1000);
          setTimeout(function () { throw new Error("uncaught marker"); }, 0);
        });
        </script>
        </body></html>
        """

    private let listener: LoopbackListener
    private let paths = NIOLockedValueBox<[String]>([])

    var port: Int { listener.port }
    var baseURL: URL { URL(string: "http://127.0.0.1:\(port)/")! }
    /// The request paths received, in order.
    var requestedPaths: [String] { paths.withLockedValue { $0 } }

    private init(listener: LoopbackListener) {
        self.listener = listener
    }

    static func start() async throws -> LoopbackPageServer {
        let listener = try await LoopbackListener.bind()
        let server = LoopbackPageServer(listener: listener)
        listener.accept { await server.serve($0) }
        return server
    }

    /// Closes the listener and every connection, the held `/hang` ones included.
    func shutdown() async {
        await listener.shutdown()
    }

    private func serve(_ connection: LoopbackListener.Connection) async {
        try? await connection.executeThenClose { inbound, outbound in
            for try await part in inbound {
                guard case .head(let head) = part else { continue }
                let path = String(head.uri.prefix { $0 != "?" })
                paths.withLockedValue { $0.append(path) }
                switch path {
                case "/":
                    try await respond(outbound, status: .ok, type: "text/html; charset=utf-8", body: Self.page)
                case "/data":
                    try await respond(outbound, status: .ok, type: "text/plain; charset=utf-8", body: "loopback data")
                case "/hang":
                    var headers = HTTPHeaders()
                    headers.add(name: "Content-Type", value: "text/html; charset=utf-8")
                    headers.add(name: "Content-Length", value: "100000")
                    try await outbound.write(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers)))
                    try await outbound.write(.body(.byteBuffer(ByteBuffer(string: "<!doctype html><title>hang</title><p>partial"))))
                    // Never finish: held until shutdown cancels the task.
                    try await Task.sleep(for: .seconds(3600))
                default:
                    try await respond(outbound, status: .notFound, type: "text/plain", body: "not found")
                }
            }
        }
    }

    private func respond(_ outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>, status: HTTPResponseStatus,
                         type: String, body: String) async throws {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: type)
        headers.add(name: "Content-Length", value: "\(body.utf8.count)")
        headers.add(name: "Cache-Control", value: "no-store")
        try await outbound.write(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers)))
        try await outbound.write(.body(.byteBuffer(ByteBuffer(string: body))))
        try await outbound.write(.end(nil))
    }
}
