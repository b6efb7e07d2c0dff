import Logging
import NIOCore
import NIOSSL
import NIOTLS
import PiSyncPersistence
import PiSyncProtocol
import PiSyncStore

/// Serves one connection: reads request frames, answers them in order, and runs the
/// connection's alert subscriptions.
///
/// Dispatch happens right here on the channel's event loop rather than in a Swift task: the
/// store is synchronous (a lock per shard), so a request needs no suspension, and staying on
/// the loop saves the two thread hops per request that an `NIOAsyncChannel` loop would cost
/// (shared/STYLE.md, "The hot path"). Responses to a burst of pipelined requests are flushed
/// once, at the end of the read.
///
/// With a write-ahead log, a response that depends on the store's state waits until the log
/// is durable up to every record appended when it was computed (``ResponseQueue``), and
/// responses leave in request order.
///
/// Memory per connection is bounded: while the channel is not writable (its write buffer is
/// over ``ServerConfiguration/connectionWriteBuffer``) or ``ServerConfiguration/maxPipelinedRequests``
/// responses are waiting, frames already read wait undecoded and the handler holds the
/// channel's next read, so a client that sends and never reads stops being read. NIO's
/// `BackPressureHandler` holds reads the same way but cannot hold the frames one read already
/// brought in; each of those can ask for a large answer.
final class ConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = OutboundFrame
    typealias OutboundOut = OutboundFrame

    private let dispatcher: RequestDispatcher
    private let bus: AlertBus
    let configuration: ServerConfiguration
    let logger: Logger
    /// What this connection may do (auth).
    var access: ConnectionAccess
    /// Refused tokens by peer address, shared by the server's connections (auth on).
    let authFailures: RateLimiter?
    /// Closes a TLS connection whose handshake is not done in time (``ConnectionHandler+TLS``).
    var handshakeDeadline: Scheduled<Void>?
    private let subscriptions: ConnectionSubscriptions
    private var closing = false
    /// The last notice is written and the output shut: input is read and dropped until the
    /// peer closes (or the close deadline), so that the kernel has no unread bytes to answer
    /// with a reset, which could discard the notice before the peer reads it.
    private var draining = false
    private var responses: ResponseQueue
    /// Frames read while input is paused, in order.
    private var backlog = CircularBuffer<ByteBuffer>()
    /// A read the channel asked for while input was paused.
    private var readHeld = false
    private var resuming = false
    /// Inside a burst of requests (a read, or frames resumed from the backlog): waits for the
    /// log start at its end, after one write-through for the whole burst.
    private var inBurst = false
    /// Answers encoded but not yet handed to the channel: a burst's answers leave as one buffer
    /// (one pass through the outbound pipeline and one write entry instead of one per answer).
    private var coalesced = ByteBuffer()
    private let encoder = OutboundFrameEncoder()
    /// The call of the request being dispatched, until its answer is counted
    /// (`pisync_requests_total`); notices and stream messages are not answers and are not counted.
    private var pendingCall: RequestCall?

    init(
        dispatcher: RequestDispatcher, bus: AlertBus, configuration: ServerConfiguration, authFailures: RateLimiter? = nil,
        logger: Logger
    ) {
        self.dispatcher = dispatcher
        self.access = ConnectionAccess(authRequired: configuration.authRequired)
        self.authFailures = authFailures
        self.responses = ResponseQueue(log: dispatcher.log)
        self.bus = bus
        self.configuration = configuration
        self.logger = logger
        self.subscriptions = ConnectionSubscriptions(bus: bus, configuration: configuration)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if draining { return }
        inBurst = true
        let frame = unwrapInboundIn(data)
        guard backlog.isEmpty, !inputPaused(context) else {
            backlog.append(frame)
            return
        }
        process(frame, context)
    }

    func read(context: ChannelHandlerContext) {
        guard !draining else {
            context.read()
            return
        }
        guard backlog.isEmpty, !inputPaused(context) else {
            readHeld = true
            return
        }
        context.read()
    }

    /// Whether the connection has as much output waiting as it may.
    private func inputPaused(_ context: ChannelHandlerContext) -> Bool {
        !context.channel.isWritable || responses.count >= configuration.maxPipelinedRequests
    }

    /// Handles the frames held back while input was paused, then lets the channel read again,
    /// for as long as input is not paused once more.
    private func resumeInput(_ context: ChannelHandlerContext) {
        guard !resuming else { return }
        resuming = true
        defer { resuming = false }
        // A burst's end may release answers at once (their records were written through, or
        // were durable already), which can unpause input again: go on until it stays paused.
        while !backlog.isEmpty, !inputPaused(context) {
            inBurst = true
            while !backlog.isEmpty, !inputPaused(context) {
                process(backlog.removeFirst(), context)
            }
            inBurst = false
            finishBurst(context)
        }
        if readHeld, backlog.isEmpty, !inputPaused(context) {
            readHeld = false
            context.read()
        }
    }

    private func process(_ frame: ByteBuffer, _ context: ChannelHandlerContext) {
        if let (id, call) = RecordSyncDecoder.decode(frame) {
            // The plain RecordSync, read without swift-protobuf's generic decoder.
            pendingCall = .recordSync
            guard !closing else {
                respond(.failure(id: id, .unavailable, "server is shutting down"), context)
                return
            }
            recordSync(id: id, call, context)
            return
        }
        let request: Pisync_V1_Request
        do {
            request = try Pisync_V1_Request(serializedBytes: frame.readableBytesSpan)
        } catch {
            logger.debug("undecodable frame", metadata: ["error": "\(error)"])
            pendingCall = .unknown
            respond(.failure(id: 0, .invalidArgument, "frame is not a valid pisync.v1.Request: \(error)"), context)
            return
        }
        pendingCall = RequestCall(request.call)
        guard !closing else {
            respond(.failure(id: request.id, .unavailable, "server is shutting down"), context)
            return
        }
        handle(request, context)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        inBurst = false
        finishBurst(context)
        resumeInput(context)
    }

    /// Ends a burst: under `interval` and `never` writes the burst's log records on this thread
    /// (so the answers waiting for them are released right here, with no hop to the log's
    /// writer thread and back), starts waiting for what is not durable yet, and flushes.
    private func finishBurst(_ context: ChannelHandlerContext) {
        if !responses.isEmpty, let log = dispatcher.log {
            log.writeThrough()
            awaitQueue(context)
        }
        pushCoalesced(context)
        context.flush()
    }

    /// Encodes `frame` behind the answers not yet handed to the channel.
    private func emit(_ frame: OutboundFrame, _ context: ChannelHandlerContext) {
        do {
            try encoder.encode(data: frame, out: &coalesced)
            // Large answers go on at once, so that the channel's writability (which pauses
            // input) sees them.
            if coalesced.readableBytes >= 16 * 1024 { pushCoalesced(context) }
        } catch {
            // Serializing a response cannot fail; were it to, the pipeline's encoder reports it.
            pushCoalesced(context)
            context.write(wrapOutboundOut(frame), promise: nil)
        }
    }

    /// Hands the coalesced answers to the channel (unflushed), before anything else is written
    /// to it, so that answers keep their order with what follows.
    private func pushCoalesced(_ context: ChannelHandlerContext) {
        guard coalesced.readableBytes > 0 else { return }
        context.write(wrapOutboundOut(.encoded(coalesced)), promise: nil)
        coalesced = context.channel.allocator.buffer(capacity: 256)
    }

    private func recordSync(id: UInt64, _ call: Pisync_V1_RecordSyncRequest, _ context: ChannelHandlerContext) {
        switch access.authorize(id: id, call) {
        case .success(let call):
            respond(dispatcher.recordSync(id: id, call, rateLimited: access.isRateLimited), context, waiting: .write)
        case .failure(let refused):
            respond(refused.response, context)
        }
    }

    private func handle(_ request: Pisync_V1_Request, _ context: ChannelHandlerContext) {
        let id = request.id
        if let refusal = access.refusal(for: request) {
            respond(refusal, context)
            return
        }
        switch request.call {
        case .authenticate(let call):
            authenticate(id: id, token: call.token, context)
        case .recordSync(let call):
            recordSync(id: id, call, context)
        case .getHistory(let call):
            respond(dispatcher.getHistory(id: id, call), context, waiting: .read)
        case .listFailures(let call):
            respond(dispatcher.listFailures(id: id, call), context, waiting: .read)
        case .ping:
            respond(dispatcher.ping(id: id), context)
        case .subscribeFailureAlerts(let call):
            var resumeAfter: UInt64?
            if case .fromSequence(let sequence) = call.resume { resumeAfter = sequence }
            subscribe(id: id, resumingAfter: resumeAfter, devicePrefix: call.deviceIDPrefix, context)
        case .cancel(let call):
            cancel(id: id, subscriptionID: call.subscriptionID, context)
        case nil where !request.unknownFields.data.isEmpty:
            respond(.failure(id: id, .unimplemented, "this server does not implement the request's call"), context)
        case nil:
            respond(.failure(id: id, .invalidArgument, "request names no call", field: "call"), context)
        }
    }

    private func subscribe(
        id: UInt64, resumingAfter resumeAfter: UInt64?, devicePrefix: String, _ context: ChannelHandlerContext
    ) {
        let subscription: AlertSubscription
        switch subscriptions.open(id: id, devicePrefix: devicePrefix, channel: context.channel, logger: logger) {
        case .refused(let refusal):
            respond(refusal, context)
            return
        case .opened(let opened):
            subscription = opened
        }
        // The confirmation enters the pipeline (after every earlier response) before the
        // subscription can deliver anything; a resume's replay follows it, then live alerts.
        // Registered now, held until the confirmation is written: the confirmation's numbers
        // and the replay are taken together (``AlertBus/add(_:resumingAfter:)``).
        let resumePoint = bus.add(subscription, resumingAfter: resumeAfter)
        let confirmation = Pisync_V1_Response.with {
            $0.id = id
            $0.subscribeFailureAlerts = .with {
                $0.bufferSize = UInt32(clamping: configuration.subscriberBufferSize)
                $0.alertThreshold = UInt32(clamping: configuration.alertThreshold)
                $0.lastSequence = resumePoint.lastSequence
                $0.alertsLost = resumePoint.lost
            }
        }
        respond(confirmation, context) { [logger] in
            guard !subscription.isEnded else { return }
            subscription.release()
            logger.debug("subscribed", metadata: ["subscription": "\(id)", "resume_after": "\(resumeAfter.map(String.init) ?? "-")"])
        }
    }

    private func cancel(id: UInt64, subscriptionID: UInt64, _ context: ChannelHandlerContext) {
        guard let subscription = subscriptions.remove(subscriptionID) else {
            respond(
                .failure(id: id, .notFound, "no open subscription with id \(subscriptionID)", field: "subscription_id"),
                context)
            return
        }
        pushCoalesced(context)  // answers before the stream's end, in order
        subscription.end(.cancelled, "subscription cancelled by client")
        respond(.with { $0.id = id; $0.cancel = .with { $0.subscriptionID = subscriptionID } }, context)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            subscriptions.drain()
            resumeInput(context)
        }
        context.fireChannelWritabilityChanged()
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if configuration.tls != nil { startHandshakeDeadline(context) }
        if configuration.authRequired { startAuthDeadline(context) }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case let event as TLSUserEvent:
            tlsEvent(event, context)
        case is IdleStateHandler.IdleStateEvent:
            if subscriptions.hasLive { return }  // a subscriber is never idle
            logger.debug("closing idle connection")
            close(context, notice: .failure(id: 0, .unavailable, "connection idle too long; closing"))
        case is ServerShutdownEvent:
            closing = true
            pushCoalesced(context)
            subscriptions.endAll(.unavailable, "server is shutting down")
            close(context, notice: .failure(id: 0, .unavailable, "server is shutting down"))
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if closing, let decoderError = error as? ByteToMessageDecoderError, case .dataReceivedInErrorState = decoderError {
            return  // input after the frame that ended the connection: dropped while the notice leaves
        }
        if draining {
            context.close(promise: nil)  // the notice is out; whatever went wrong with the input ends it
            return
        }
        switch error {
        case let frameError as FrameError:
            logger.info("closing connection: \(frameError)")
            let code: StatusCode =
                switch frameError {
                case .frameTooLarge: .resourceExhausted
                case .incompleteFrameTimeout: .deadlineExceeded
                case .malformedLength: .invalidArgument
                }
            close(context, notice: .failure(id: 0, code, frameError.description))
        case is ByteToMessageDecoderError:
            context.close(promise: nil)  // EOF in the middle of a frame
        default:
            logger.debug("connection error: \(error)")
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        // Ended, not only removed: a confirmation still queued behind the log must not add a
        // subscription to the bus after the connection is gone.
        subscriptions.endAll(.unavailable, "connection closed")
        context.fireChannelInactive()
    }

    /// Sends `response` now, or queues it behind earlier responses and the log records it
    /// depends on (see ``ResponseQueue``); `then` runs once it has been written.
    func respond(
        _ response: Pisync_V1_Response, _ context: ChannelHandlerContext, waiting: ResponseQueue.Wait = .none,
        then: (() -> Void)? = nil
    ) {
        respond(.response(response), context, waiting: waiting, then: then)
    }

    private func respond(
        _ response: OutboundFrame, _ context: ChannelHandlerContext, waiting: ResponseQueue.Wait = .none,
        then: (() -> Void)? = nil
    ) {
        if let call = pendingCall {
            pendingCall = nil
            dispatcher.metrics.countRequest(call, response)
        }
        guard responses.enqueue(response, waiting: waiting, then: then) else {
            emit(response, context)
            if let then {
                pushCoalesced(context)
                then()
            }
            return
        }
        if !inBurst { awaitQueue(context) }
    }

    /// Waits for the log to make the oldest queued response releasable, writes every response
    /// that then is, and waits again while any remain. Responses already durable are written
    /// in a loop here rather than through an already-completed future, so a long queue never
    /// turns into deep recursion.
    private func awaitQueue(_ context: ChannelHandlerContext) {
        while let sequence = responses.sequenceToAwait(), let log = dispatcher.log {
            // Durable already (the usual case after a write-through), or the log is failing:
            // answer here, in the loop, so that a long queue never turns into nested callbacks
            // (a stack overflow once).
            if sequence <= log.durableSequence {
                writeReleased(responses.release(failure: nil), context)
                continue
            }
            let loop = context.eventLoop
            let handler = NIOLoopBound((self, context), eventLoop: loop)
            let immediate = log.durability(of: sequence) { result in
                // From the log's writer thread, or from an event loop that wrote through.
                if loop.inEventLoop {
                    handler.value.0.waitEnded(result, handler.value.1)
                } else {
                    loop.execute { handler.value.0.waitEnded(result, handler.value.1) }
                }
            }
            if let immediate {
                var failure: (any Error)?
                if case .failure(let error) = immediate { failure = error }
                writeReleased(responses.release(failure: failure), context)
                continue
            }
            return
        }
        if responses.isEmpty, let notice = pendingCloseNotice {
            pendingCloseNotice = nil
            close(context, notice: notice)
        }
    }

    /// A wait for the log ended: writes what it released and goes on with the queue and input.
    private func waitEnded(_ result: Result<Void, StorageIOError>, _ context: ChannelHandlerContext) {
        var failure: (any Error)?
        if case .failure(let error) = result { failure = error }
        writeReleased(responses.release(failure: failure), context)
        awaitQueue(context)
        resumeInput(context)
    }

    /// Writes released responses, runs what waits on each, flushes, and ends the wait.
    private func writeReleased(_ ready: [ResponseQueue.Entry], _ context: ChannelHandlerContext) {
        for entry in ready {
            emit(entry.response, context)
            if let then = entry.then {
                pushCoalesced(context)
                then()
            }
        }
        pushCoalesced(context)
        context.flush()
        responses.awaited()
    }

    private var pendingCloseNotice: Pisync_V1_Response?

    /// Sends a last connection-level message (id 0) after the responses still queued, then
    /// closes once it is written.
    func close(_ context: ChannelHandlerContext, notice: Pisync_V1_Response) {
        if !closing {
            // A peer that never reads would hold the connection open (and counted against
            // --max-connections) forever while the notice waits to be written: close anyway.
            let channel = context.channel
            let deadline = context.eventLoop.scheduleTask(in: TimeAmount(configuration.closeTimeout)) { channel.close(promise: nil) }
            channel.closeFuture.whenComplete { _ in deadline.cancel() }
        }
        closing = true
        guard responses.isEmpty else {
            pendingCloseNotice = notice
            return
        }
        let written = context.eventLoop.makePromise(of: Void.self)
        pushCoalesced(context)
        context.writeAndFlush(wrapOutboundOut(.response(notice)), promise: written)
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        written.futureResult.whenComplete { result in
            let (handler, context) = loopBound.value
            guard case .success = result else { return context.close(promise: nil) }
            handler.drain(context)
        }
    }

    /// Shuts the output after the last notice and reads what the peer still sends, dropping
    /// it, until it closes; the close deadline set in `close` ends it otherwise.
    func drain(_ context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        draining = true
        backlog.removeAll()
        let halfClosed = context.eventLoop.makePromise(of: Void.self)
        context.close(mode: .output, promise: halfClosed)
        let channel = context.channel
        // A transport that cannot half-close (or a peer gone already): close outright.
        halfClosed.futureResult.whenFailure { _ in channel.close(promise: nil) }
        if readHeld {
            readHeld = false
            context.read()
        }
    }
}

/// Tells a connection that the server is shutting down gracefully.
struct ServerShutdownEvent: Sendable {}
