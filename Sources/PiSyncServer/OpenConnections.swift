import NIOCore

/// The server's open connections, counted in total and by source address, under the server's
/// lock: a new connection is admitted only under both limits.
struct OpenConnections {
    /// The refusal while the server shuts down.
    static let shuttingDown = "server is shutting down"

    private var open: [ObjectIdentifier: any Channel] = [:]
    private var byPeer: [String: Int] = [:]

    var count: Int { open.count }
    var channels: [any Channel] { Array(open.values) }

    /// Admits `channel` from `peer`, or returns why not.
    mutating func admit(_ channel: any Channel, peer: String, limit: Int, perPeerLimit: Int) -> String? {
        guard open.count < limit else {
            return "server is at its limit of \(limit) connections; retry later"
        }
        let fromPeer = byPeer[peer, default: 0]
        guard fromPeer < perPeerLimit else {
            return "\(peer) has \(fromPeer) connections open, the limit per address; retry later"
        }
        open[ObjectIdentifier(channel)] = channel
        byPeer[peer] = fromPeer + 1
        return nil
    }

    /// The key a peer's connections (and refused tokens) are counted under: its IPv4 address,
    /// or the /64 prefix of its IPv6 address, since one host may hold a whole /64.
    static func peerKey(_ address: SocketAddress?) -> String {
        switch address {
        case .v4(let v4)?:
            return address?.ipAddress ?? "\(v4)"
        case .v6(let v6)?:
            var raw = v6.address.sin6_addr
            let bytes = withUnsafeBytes(of: &raw) { Array($0.prefix(8)) }
            if bytes == [0, 0, 0, 0, 0, 0, 0, 0] { return address?.ipAddress ?? "::" }  // ::1, v4-mapped
            let groups = stride(from: 0, to: 8, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
            return groups.joined(separator: ":") + "::/64"
        default:
            return "local"
        }
    }

    /// Forgets a closed connection that was admitted.
    mutating func remove(_ channel: any Channel, peer: String) {
        guard open.removeValue(forKey: ObjectIdentifier(channel)) != nil else { return }
        let remaining = byPeer[peer, default: 1] - 1
        byPeer[peer] = remaining > 0 ? remaining : nil
    }
}
