import NIOCore
import PiSyncProtocol

/// Turns away a connection over one of the server's limits: one RESOURCE_EXHAUSTED frame
/// (or UNAVAILABLE while shutting down), then close.
final class ConnectionRejecter: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let message: String
    private let closeTimeout: TimeAmount

    init(message: String, closeTimeout: TimeAmount) {
        self.message = message
        self.closeTimeout = closeTimeout
    }

    func channelActive(context: ChannelHandlerContext) {
        let code: StatusCode = message == OpenConnections.shuttingDown ? .unavailable : .resourceExhausted
        let notice = Pisync_V1_Response.failure(id: 0, code, message)
        var buffer = context.channel.allocator.buffer(capacity: 128)
        let body: [UInt8] = (try? notice.serializedBytes()) ?? []
        FrameCodec.writeFrame(body, into: &buffer)
        let channel = context.channel
        // Closed once the notice is written, or after the close timeout whatever the peer does.
        let deadline = context.eventLoop.scheduleTask(in: closeTimeout) { channel.close(promise: nil) }
        channel.closeFuture.whenComplete { _ in deadline.cancel() }
        context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in channel.close(promise: nil) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
}
