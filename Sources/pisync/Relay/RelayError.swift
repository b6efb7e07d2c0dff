import PiSyncClient

/// Why a relay session ended: `fatal` ones stop the relay (retrying cannot help), the others
/// make it reconnect after a backoff.
struct RelayError: Error, Sendable, CustomStringConvertible {
    let description: String
    let fatal: Bool

    /// The server's answer to the authenticate or subscribe call, classified: a refused token,
    /// a missing permission or a malformed --device-prefix stop the relay.
    init(_ error: PiSyncError, hasToken: Bool) {
        switch error.status {
        case .unauthenticated where !hasToken:
            description = "server error: \(error); this server has auth on: give --token-file PATH or set PISYNC_TOKEN_FILE"
            fatal = true
        case .unauthenticated, .permissionDenied, .invalidArgument:
            description = "server error: \(error)"
            fatal = true
        default:
            description = "server error: \(error)"
            fatal = false
        }
    }

    /// A failure to reach the server, or the connection's loss: retried.
    init(retryable description: String) {
        self.description = description
        fatal = false
    }
}
