import NIOCore

/// Stands at the head of the pipeline, where the socket is: notes the read requests that get
/// there (a handler holding reads back stops them on the way).
final class SocketReads: ChannelOutboundHandler {
    typealias OutboundIn = ByteBuffer

    private var requested = false

    func read(context: ChannelHandlerContext) {
        requested = true
        context.read()
    }

    /// Whether a read was requested since the last call.
    func take() -> Bool {
        defer { requested = false }
        return requested
    }
}
