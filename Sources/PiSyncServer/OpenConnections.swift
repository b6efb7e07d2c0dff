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

    /// Forgets a closed connection that was admitted.
    mutating func remove(_ channel: any Channel, peer: String) {
        guard open.removeValue(forKey: ObjectIdentifier(channel)) != nil else { return }
        let remaining = byPeer[peer, default: 1] - 1
        byPeer[peer] = remaining > 0 ? remaining : nil
    }
}
