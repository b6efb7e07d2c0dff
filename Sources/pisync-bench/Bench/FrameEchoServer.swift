import NIOCore
import NIOPosix
import PiSyncProtocol

/// The baselines of `pisync-bench`: servers that only echo each frame back, through the same
/// framing PiSync uses, so the difference to PiSync is the cost of PiSync's own work.
enum FrameEchoServer {
    /// Echo from a channel handler, on the event loop (PiSync's own design).
    static func bindHandler(group: any EventLoopGroup, host: String = "127.0.0.1", port: Int = 0) async throws -> any Channel {
        try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers(
                        ByteToMessageHandler(FrameDecoder()), MessageToByteHandler(FrameBytesEncoder()), EchoHandler())
                }
            }
            .bind(host: host, port: port).get()
    }

    /// Echo from one Swift task per connection over `NIOAsyncChannel`: every frame hops from
    /// the event loop to the task and back.
    static func runAsyncChannel(group: any EventLoopGroup, onBound: @Sendable (Int) -> Void) async throws {
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers(
                        ByteToMessageHandler(FrameDecoder()), MessageToByteHandler(FrameBytesEncoder()))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        onBound(server.channel.localAddress?.port ?? 0)
        try await withThrowingDiscardingTaskGroup { group in
            try await server.executeThenClose { inbound in
                for try await connection in inbound {
                    group.addTask {
                        try? await connection.executeThenClose { frames, outbound in
                            for try await frame in frames {
                                try await outbound.write(frame)
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Writes a frame body back with its length prefix.
struct FrameBytesEncoder: MessageToByteEncoder {
    typealias OutboundIn = ByteBuffer

    func encode(data: ByteBuffer, out: inout ByteBuffer) throws {
        FrameCodec.writeFrame(data.readableBytesView, into: &out)
    }
}

private final class EchoHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.write(data, promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }
}
