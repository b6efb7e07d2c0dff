import NIOCore
import PiSyncProtocol

/// Turns away a connection over the server's limit: one RESOURCE_EXHAUSTED frame, then close.
final class ConnectionRejecter: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let limit: Int

    init(limit: Int) {
        self.limit = limit
    }

    func channelActive(context: ChannelHandlerContext) {
        let notice = Pisync_V1_Response.failure(
            id: 0, .resourceExhausted, "server is at its limit of \(limit) connections; retry later")
        var buffer = context.channel.allocator.buffer(capacity: 128)
        let body: [UInt8] = (try? notice.serializedBytes()) ?? []
        FrameCodec.writeFrame(body, into: &buffer)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in channel.close(promise: nil) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
}
