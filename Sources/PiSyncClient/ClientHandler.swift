import NIOCore
import PiSyncProtocol

/// What the client asks of its connection's handler.
enum ClientCommand: Sendable {
    /// Send a request; complete `promise` with the response carrying its id.
    case unary(Pisync_V1_Request, EventLoopPromise<Pisync_V1_Response>)
    /// Send a subscribe request; complete `confirmed` with its first response and stream the
    /// alerts after it into `alerts`.
    case subscribe(
        Pisync_V1_Request, confirmed: EventLoopPromise<Pisync_V1_Response>,
        alerts: AsyncThrowingStream<FailureAlertStream.Event, any Error>.Continuation)
}

/// Matches responses to requests by id, and routes alerts to their streams.
final class ClientHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ClientCommand
    typealias OutboundOut = Pisync_V1_Request

    private struct Stream {
        var confirmed: EventLoopPromise<Pisync_V1_Response>?
        let alerts: AsyncThrowingStream<FailureAlertStream.Event, any Error>.Continuation
    }

    private var pending: [UInt64: EventLoopPromise<Pisync_V1_Response>] = [:]
    private var streams: [UInt64: Stream] = [:]

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let id: UInt64
        let request: Pisync_V1_Request
        switch unwrapOutboundIn(data) {
        case .unary(let unary, let response):
            (id, request) = (unary.id, unary)
            pending[id] = response
        case .subscribe(let subscribe, let confirmed, let alerts):
            (id, request) = (subscribe.id, subscribe)
            streams[id] = Stream(confirmed: confirmed, alerts: alerts)
        }
        // A write that fails (the connection closed, perhaps before this request got here)
        // must fail the request's response too, or its caller waits forever.
        let written = context.eventLoop.makePromise(of: Void.self)
        written.futureResult.assumeIsolated().whenFailure { error in
            self.pending.removeValue(forKey: id)?.fail(error)
            if let stream = self.streams.removeValue(forKey: id) {
                stream.confirmed?.fail(error)
                stream.alerts.finish(throwing: error)
            }
        }
        written.futureResult.cascade(to: promise)
        context.write(wrapOutboundOut(request), promise: written)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard let response = try? Pisync_V1_Response(serializedBytes: frame.readableBytesSpan) else {
            failAll(PiSyncClientError.unexpectedResponse("a frame that is not a pisync.v1.Response"))
            context.close(promise: nil)
            return
        }
        if response.id == 0, case .error(let error) = response.result {
            failAll(PiSyncError(error))  // a connection-level notice: the server is closing
            return
        }
        if let promise = pending.removeValue(forKey: response.id) {
            promise.succeed(response)
        } else if streams[response.id] != nil {
            route(response)
        }
    }

    private func route(_ response: Pisync_V1_Response) {
        let id = response.id
        guard var stream = streams[id] else { return }
        switch response.result {
        case .failureAlert(let alert):
            stream.alerts.yield(.alert(alert))
        case .recovered(let recovered):
            stream.alerts.yield(.recovered(recovered))
        case .error(let error):
            streams[id] = nil
            if let confirmed = stream.confirmed {
                confirmed.succeed(response)  // refused: the caller turns it into an error
                stream.alerts.finish()
            } else if error.code == StatusCode.cancelled.rawValue {
                stream.alerts.finish()
            } else {
                stream.alerts.finish(throwing: PiSyncError(error))
            }
        default:
            stream.confirmed?.succeed(response)
            stream.confirmed = nil
            streams[id] = stream
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(PiSyncClientError.connectionClosed)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        switch error {
        case let decoderError as ByteToMessageDecoderError:
            // Bytes that are not frames of this protocol: most often a TLS server answering a
            // plain connection with an alert.
            failAll(PiSyncClientError.notPiSync("\(decoderError)"))
        case let frameError as FrameError:
            failAll(PiSyncClientError.notPiSync("\(frameError)"))
        default:
            failAll(error)
        }
        context.close(promise: nil)
    }

    private func failAll(_ error: any Error) {
        let waiting = pending
        let open = streams
        pending = [:]
        streams = [:]
        for promise in waiting.values { promise.fail(error) }
        for stream in open.values {
            stream.confirmed?.fail(error)
            stream.alerts.finish(throwing: error)
        }
    }
}
