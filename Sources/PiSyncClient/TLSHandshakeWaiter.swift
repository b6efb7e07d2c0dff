import NIOCore
import NIOSSL
import NIOTLS

/// Completes ``handshake`` when the TLS handshake is done, or fails it with the handshake's
/// error, when the connection closes first, or after a timeout, so that `connect` reports a
/// bad certificate or a plain-TCP server instead of the first call failing later.
final class TLSHandshakeWaiter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private let promise: EventLoopPromise<Void>
    private let timeout: TimeAmount
    private var deadline: Scheduled<Void>?

    /// Succeeds once the handshake is done.
    var handshake: EventLoopFuture<Void> { promise.futureResult }

    init(promise: EventLoopPromise<Void>, timeout: TimeAmount) {
        self.promise = promise
        self.timeout = timeout
    }

    func channelActive(context: ChannelHandlerContext) {
        let promise = self.promise
        let timeout = self.timeout
        deadline = context.eventLoop.scheduleTask(in: timeout) {
            promise.fail(PiSyncClientError.tlsHandshakeFailed(
                "no TLS handshake within \(timeout.nanoseconds / 1_000_000) ms (is the server serving TLS?)"))
        }
        context.fireChannelActive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event {
            deadline?.cancel()
            promise.succeed()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        deadline?.cancel()
        promise.fail(error)
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        promise.fail(PiSyncClientError.tlsHandshakeFailed(
            "the server closed the connection during the TLS handshake (is it serving TLS?)"))
        context.fireChannelInactive()
    }
}
