import PiSyncProtocol

/// An error the server answered with: a gRPC-numbered code, a message, and the offending field.
public struct PiSyncError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The wire code (see ``StatusCode``).
    public var code: UInt32
    /// The server's explanation.
    public var message: String
    /// The offending request field, or empty.
    public var field: String
    /// On a rate limit's RESOURCE_EXHAUSTED: how long to wait before retrying, in ms (0: not said).
    public var retryAfterMillis: UInt32

    /// Creates an error from its parts.
    public init(code: UInt32, message: String, field: String = "", retryAfterMillis: UInt32 = 0) {
        self.code = code
        self.message = message
        self.field = field
        self.retryAfterMillis = retryAfterMillis
    }

    /// Creates an error from a wire `Error`.
    public init(_ error: Pisync_V1_Error) {
        self.init(code: error.code, message: error.message, field: error.field, retryAfterMillis: error.retryAfterMs)
    }

    /// The code as a ``StatusCode``, when it is one.
    public var status: StatusCode? { StatusCode(rawValue: code) }

    public var description: String {
        let name = StatusCode.name(of: code)
        return field.isEmpty ? "\(name) (\(code)): \(message)" : "\(name) (\(code)) [\(field)]: \(message)"
    }
}

/// A failure of the client's connection rather than an answer from the server.
public enum PiSyncClientError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The connection closed before the answer arrived.
    case connectionClosed
    /// The server answered with a result of the wrong kind.
    case unexpectedResponse(String)
    /// The TLS handshake did not complete.
    case tlsHandshakeFailed(String)
    /// The server sent bytes that are not frames of the protocol.
    case notPiSync(String)

    public var description: String {
        switch self {
        case .connectionClosed: "connection closed before the server answered"
        case .unexpectedResponse(let what): "unexpected response from server: \(what)"
        case .tlsHandshakeFailed(let why): "TLS handshake failed: \(why)"
        case .notPiSync(let what):
            "the server's answer is not PiSync frames (\(what)); if it serves TLS, connect with --tls and --tls-ca"
        }
    }
}
