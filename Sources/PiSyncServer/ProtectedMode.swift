import NIOCore

/// Protected mode: with auth off, the server serves loopback only, unless told
/// ``ServerConfiguration/allowUnauthenticated``. Anyone who can reach the port could otherwise
/// record for any device, read every history and subscribe to every alert.
enum ProtectedMode {
    /// Refuses a configuration that would serve a non-loopback address with auth off.
    static func check(_ configuration: ServerConfiguration) throws(ProtectedModeError) {
        guard !configuration.authRequired, !configuration.allowUnauthenticated else { return }
        guard !isLoopback(configuration.host) else { return }
        throw ProtectedModeError(host: configuration.host)
    }

    /// Whether `host` names only loopback addresses (an unresolvable name does not).
    static func isLoopback(_ host: String) -> Bool {
        if host == "localhost" { return true }
        guard let address = try? SocketAddress.makeAddressResolvingHost(host, port: 0) else { return false }
        switch address {
        case .v4(let v4):
            // 127.0.0.0/8, in network byte order.
            return UInt32(bigEndian: v4.address.sin_addr.s_addr) >> 24 == 127
        case .v6:
            return address.ipAddress == "::1"
        case .unixDomainSocket:
            return true
        }
    }
}

extension ServerConfiguration {
    /// Throws when protected mode refuses this configuration: a non-loopback ``host`` with auth
    /// off and without ``allowUnauthenticated``. The server checks again before it binds.
    public func checkProtectedMode() throws(ProtectedModeError) {
        try ProtectedMode.check(self)
    }
}

/// `serve` was asked to bind a non-loopback address with auth off.
public struct ProtectedModeError: Error, CustomStringConvertible {
    /// The address asked for.
    public let host: String

    public var description: String {
        "refusing to serve \(host) without auth (protected mode): anyone who can reach it could record for any "
            + "device and read every history. Turn auth on with --auth-secret-file PATH (PISYNC_AUTH_SECRET_FILE; "
            + "a file of KEY_ID SECRET lines, mode 0600; see docs/security.md), or, on a trusted network only, "
            + "pass --allow-unauthenticated"
    }
}
