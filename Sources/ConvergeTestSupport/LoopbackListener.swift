import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// A listening HTTP/1.1 socket on 127.0.0.1 for test servers: ``bind()`` picks a free port; ``accept(_:)``
/// hands each connection to a handler in its own task; ``shutdown()`` closes the listener and every
/// connection (held ones included) and waits for them. Binding and accepting are two steps so that a server
/// can be built around the bound port before its handler runs.
package final class LoopbackListener: Sendable {
    package typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

    /// The bound port.
    package let port: Int
    private let channel: NIOAsyncChannel<Connection, Never>
    private let acceptTask = NIOLockedValueBox<Task<Void, Never>?>(nil)

    private init(channel: NIOAsyncChannel<Connection, Never>, port: Int) {
        self.channel = channel
        self.port = port
    }

    /// Binds 127.0.0.1, port 0, with NIO's HTTP/1.1 server pipeline (and its error handling).
    package static func bind() async throws -> LoopbackListener {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    return try Connection(wrappingChannelSynchronously: channel)
                }
            }
        guard let port = channel.channel.localAddress?.port else {
            try? await channel.channel.close()
            throw ChannelError.inappropriateOperationForState
        }
        return LoopbackListener(channel: channel, port: port)
    }

    /// Starts accepting: every connection goes to `handle`, concurrently. Call once.
    package func accept(_ handle: @escaping @Sendable (Connection) async -> Void) {
        let channel = self.channel
        // The task holds the listener until shutdown() ends it.
        let task = Task<Void, Never> {
            try? await withThrowingDiscardingTaskGroup { group in
                try await channel.executeThenClose { inbound in
                    for try await connection in inbound {
                        group.addTask { await handle(connection) }
                    }
                }
            }
        }
        acceptTask.withLockedValue { $0 = task }
    }

    /// Closes the listener and every connection, and waits for their handlers.
    package func shutdown() async {
        try? await channel.channel.close()
        guard let task = acceptTask.withLockedValue({ $0 }) else { return }
        task.cancel()
        await task.value
    }
}
