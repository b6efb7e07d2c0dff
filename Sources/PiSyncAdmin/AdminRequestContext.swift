import Hummingbird
import NIOCore

/// The request context of the admin HTTP port: Hummingbird's core context plus the peer's
/// address, which decides whether `/metrics` needs a token.
public struct AdminRequestContext: RequestContext, RemoteAddressRequestContext {
    /// Hummingbird's per-request storage (logger, parameters).
    public var coreContext: CoreRequestContextStorage
    /// The address of the peer that sent the request.
    public let remoteAddress: SocketAddress?

    /// A context for a request arriving on `source`'s channel.
    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }

    /// Whether the peer is on this host (127.0.0.0/8, ::1 or an IPv4-mapped loopback address).
    public var peerIsLoopback: Bool { Self.isLoopback(remoteAddress) }

    /// Whether `address` is a loopback address (127.0.0.0/8, ::1, ::ffff:127.0.0.0/104).
    public static func isLoopback(_ address: SocketAddress?) -> Bool {
        guard let ip = address?.ipAddress else { return false }
        return ip.hasPrefix("127.") || ip == "::1" || ip.hasPrefix("::ffff:127.")
    }
}
