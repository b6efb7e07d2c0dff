import NIOCore
import NIOSSL
import NIOTLS
import PiSyncProtocol

extension ConnectionHandler {
    /// A TLS handshake gets the frame deadline to finish: a peer that opens a connection and
    /// dribbles (or never sends) its handshake is closed, as one that dribbles a frame is.
    func startHandshakeDeadline(_ context: ChannelHandlerContext) {
        let channel = context.channel
        let logger = self.logger
        handshakeDeadline = context.eventLoop.scheduleTask(in: TimeAmount(configuration.frameTimeout)) {
            logger.info("closing connection: TLS handshake not done within the frame deadline")
            channel.close(promise: nil)
        }
    }

    /// After the handshake, a verified client certificate that names a device makes the
    /// connection that device's (mutual TLS).
    func tlsEvent(_ event: TLSUserEvent, _ context: ChannelHandlerContext) {
        guard case .handshakeCompleted = event else { return }
        handshakeDeadline?.cancel()
        handshakeDeadline = nil
        guard configuration.tls?.clientCAPath != nil,
            let certificate = try? context.pipeline.syncOperations.nioSSL_peerCertificate()
        else { return }
        guard let identity = ServerTLS.deviceIdentity(of: certificate) else {
            logger.notice("client certificate names no valid device id; the connection must authenticate with a token")
            return
        }
        access.authenticated(as: identity, byCertificate: true)
        logger.info("authenticated by client certificate as device '\(identity.name)'")
    }
}
