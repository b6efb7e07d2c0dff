/// Error codes of ``Pisync_V1_Error``, numbered as gRPC's status codes.
public enum StatusCode: UInt32, Sendable, CaseIterable, CustomStringConvertible {
    case ok = 0
    /// A subscription ended because its client cancelled it.
    case cancelled = 1
    case unknown = 2
    /// A field is malformed or out of range, or the frame is not a request.
    case invalidArgument = 3
    /// A frame was not complete within the server's frame deadline.
    case deadlineExceeded = 4
    /// The named device or subscription does not exist.
    case notFound = 5
    case alreadyExists = 6
    /// The connection's token does not allow the call (a device token reading, or writing
    /// another device's events).
    case permissionDenied = 7
    /// A limit was hit: frame size, connections, a subscriber's buffer.
    case resourceExhausted = 8
    case failedPrecondition = 9
    /// The server does not know the request's call.
    case unimplemented = 12
    /// A bug on the server.
    case `internal` = 13
    /// The server is shutting down or cannot serve now; retry later.
    case unavailable = 14
    /// Auth is on and the connection has not authenticated, or its token was refused.
    case unauthenticated = 16

    public var description: String {
        switch self {
        case .ok: "OK"
        case .cancelled: "CANCELLED"
        case .unknown: "UNKNOWN"
        case .invalidArgument: "INVALID_ARGUMENT"
        case .deadlineExceeded: "DEADLINE_EXCEEDED"
        case .notFound: "NOT_FOUND"
        case .alreadyExists: "ALREADY_EXISTS"
        case .permissionDenied: "PERMISSION_DENIED"
        case .resourceExhausted: "RESOURCE_EXHAUSTED"
        case .failedPrecondition: "FAILED_PRECONDITION"
        case .unimplemented: "UNIMPLEMENTED"
        case .internal: "INTERNAL"
        case .unavailable: "UNAVAILABLE"
        case .unauthenticated: "UNAUTHENTICATED"
        }
    }

    /// The name of a wire code, or the number when it is not one of these.
    public static func name(of code: UInt32) -> String {
        StatusCode(rawValue: code)?.description ?? "CODE_\(code)"
    }
}
