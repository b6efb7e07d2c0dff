import NIOCore
import PiSyncAuth
import PiSyncProtocol

extension ConnectionHandler {
    /// Answers Authenticate: checks the token under the server's secrets and, when it is good,
    /// lets the connection do what its role allows. A refused token is answered with
    /// UNAUTHENTICATED and the connection is closed ``ServerConfiguration/authFailureDelay``
    /// later; from a source address that has had too many refused lately, a refused token
    /// gets RESOURCE_EXHAUSTED with retry_after_ms instead (a good one still passes). Neither
    /// the token nor a secret is ever logged or echoed.
    func authenticate(id: UInt64, token: String, _ context: ChannelHandlerContext) {
        guard let secrets = configuration.authSecrets else {
            if configuration.authRequired {
                // Client certificates only: there is no secret a token could verify under.
                respond(
                    .failure(
                        id: id, .unauthenticated,
                        "this server accepts client certificates only (it has no token secrets): connect with a device certificate",
                        field: "token"), context)
                return
            }
            // Auth is off: a client that always authenticates still works.
            respond(.with { $0.id = id; $0.authenticate = .with { $0.authRequired = false } }, context)
            return
        }
        switch access.state {
        case .authenticated(let identity) where !access.byCertificate:
            respond(
                .failure(
                    id: id, .failedPrecondition,
                    "this connection is already authenticated as \(identity.role.rawValue) '\(identity.name)'"),
                context)
            return
        case .refused, .open:
            respond(ConnectionAccess.unauthenticated(id: id), context)
            return
        case .unauthenticated, .authenticated:
            break  // a token may take over from a client certificate's identity (an operator's)
        }
        // A good token is accepted even from an address over its limit of refused tokens: one
        // broken device behind a school's NAT must not lock out the others. The MAC is checked
        // first (it is cheap, and 256 bits cannot be guessed); the limit decides how a refusal
        // is answered.
        let peer = OpenConnections.peerKey(context.channel.remoteAddress)
        do {
            let identity = try secrets.verify(token)
            access.authenticated(as: identity)
            logger.info("authenticated as \(identity.role.rawValue) '\(identity.name)' (key id \(identity.keyID))")
            respond(
                .with {
                    $0.id = id
                    $0.authenticate = .with {
                        $0.role = identity.role.rawValue
                        $0.name = identity.name
                        $0.authRequired = true
                    }
                }, context)
        } catch {
            if let authFailures, case .limited(_, let retryAfter) = authFailures.take(1, of: peer) {
                logger.notice("refused a token from an address over its limit of refused tokens")
                refuse(
                    .failure(
                        id: id, .resourceExhausted,
                        "too many refused tokens from \(peer): retry after \(retryAfter) ms",
                        field: "token", retryAfterMillis: retryAfter),
                    context)
                return
            }
            logger.notice("refused a token: \(error)")
            refuse(.failure(id: id, .unauthenticated, "token refused: \(error)", field: "token"), context)
        }
    }

    /// With auth on, a connection that has not authenticated within
    /// ``ServerConfiguration/authTimeout`` is closed with an id-0 UNAUTHENTICATED notice: one
    /// that cannot do anything else must not hold a place for the idle timeout.
    func startAuthDeadline(_ context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let deadline = context.eventLoop.scheduleTask(in: TimeAmount(configuration.authTimeout)) {
            let (handler, context) = loopBound.value
            guard handler.access.state == .unauthenticated, context.channel.isActive else { return }
            handler.logger.info("closing connection: no Authenticate within the auth timeout")
            handler.close(
                context,
                notice: .failure(
                    id: 0, .unauthenticated,
                    "no Authenticate within \(handler.configuration.authTimeout.logText) of connecting; closing"))
        }
        context.channel.closeFuture.whenComplete { _ in deadline.cancel() }
    }

    /// Answers a refused Authenticate and closes the connection a little later: long enough
    /// for the answer to arrive, short enough that guessing tokens is slow.
    private func refuse(_ answer: Pisync_V1_Response, _ context: ChannelHandlerContext) {
        access.refused()
        respond(answer, context)
        let channel = context.channel
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(in: TimeAmount(configuration.authFailureDelay)) {
            // Shut the output and drain, rather than close with unread input: a reset could
            // discard the answer before the client reads it.
            let (handler, context) = loopBound.value
            handler.drain(context)
        }
        context.eventLoop.scheduleTask(in: TimeAmount(configuration.authFailureDelay + configuration.closeTimeout)) {
            channel.close(promise: nil)
        }
    }
}
