import NIOCore
import PiSyncAuth
import PiSyncProtocol

extension ConnectionHandler {
    /// Answers Authenticate: checks the token under the server's secrets and, when it is good,
    /// lets the connection do what its role allows. A refused token is answered with
    /// UNAUTHENTICATED and the connection is closed ``ServerConfiguration/authFailureDelay``
    /// later; a source address that has had too many refused lately gets RESOURCE_EXHAUSTED
    /// with retry_after_ms and its token is not checked at all. Neither the token nor a secret
    /// is ever logged or echoed.
    func authenticate(id: UInt64, token: String, _ context: ChannelHandlerContext) {
        guard let secrets = configuration.authSecrets else {
            // Auth is off: a client that always authenticates still works.
            respond(.with { $0.id = id; $0.authenticate = .with { $0.authRequired = false } }, context)
            return
        }
        switch access.state {
        case .authenticated(let identity) where identity.keyID != ServerTLS.certificateKeyID:
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
        let peer = context.channel.remoteAddress?.ipAddress ?? "unknown"
        if let authFailures, case .limited(_, let retryAfter) = authFailures.check(1, of: peer) {
            logger.notice("refusing Authenticate: too many refused tokens from this address")
            refuse(
                .failure(
                    id: id, .resourceExhausted,
                    "too many refused tokens from \(peer): retry after \(retryAfter) ms", retryAfterMillis: retryAfter),
                context)
            return
        }
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
            _ = authFailures?.take(1, of: peer)
            logger.notice("refused a token: \(error)")
            refuse(.failure(id: id, .unauthenticated, "token refused: \(error)", field: "token"), context)
        }
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
