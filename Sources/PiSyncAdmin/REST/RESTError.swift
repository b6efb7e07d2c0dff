import Hummingbird
import PiSyncProtocol

/// An error answer of the REST gateway: an HTTP status and a JSON body
/// `{"error":{"code","field","message"}}` (plus `retry_after_ms` when the client should wait),
/// with the binary protocol's code names.
struct RESTError: Error, Sendable {
    var status: HTTPResponse.Status
    var code: StatusCode
    /// The offending field: a body field (`total_errors`), a query parameter (`limit`), the
    /// path's `device_id`, or `body` / `Content-Type` for the request as a whole.
    var field: String
    var message: String
    var retryAfterMillis: UInt32 = 0

    /// A 400 INVALID_ARGUMENT naming `field`.
    static func invalid(_ field: String, _ message: String) -> RESTError {
        RESTError(status: .badRequest, code: .invalidArgument, field: field, message: message)
    }

    /// The REST form of a binary protocol error: its code decides the HTTP status.
    init(_ error: Pisync_V1_Error) {
        let code = StatusCode(rawValue: error.code) ?? .unknown
        self.init(
            status: Self.httpStatus(of: code), code: code, field: error.field, message: error.message,
            retryAfterMillis: error.retryAfterMs)
    }

    init(
        status: HTTPResponse.Status, code: StatusCode, field: String, message: String, retryAfterMillis: UInt32 = 0
    ) {
        self.status = status
        self.code = code
        self.field = field
        self.message = message
        self.retryAfterMillis = retryAfterMillis
    }

    private static func httpStatus(of code: StatusCode) -> HTTPResponse.Status {
        switch code {
        case .invalidArgument: .badRequest
        case .notFound: .notFound
        case .permissionDenied: .forbidden
        case .unauthenticated: .unauthorized
        case .resourceExhausted: .tooManyRequests
        case .unavailable: .serviceUnavailable
        case .deadlineExceeded: .gatewayTimeout
        default: .internalServerError
        }
    }

    /// The JSON body.
    var body: JSONValue {
        var error: [(key: String, value: JSONValue)] = [
            ("code", .string(code.description)), ("field", .string(field)), ("message", .string(message)),
        ]
        if retryAfterMillis > 0 { error.append(("retry_after_ms", .number(Double(retryAfterMillis)))) }
        return ["error": .object(error)]
    }

    /// The HTTP answer: the body, and `Retry-After` (whole seconds, rounded up) for 429 and 503.
    var response: Response {
        var headers: HTTPFields = [:]
        if retryAfterMillis > 0 {
            headers[.retryAfter] = String((retryAfterMillis + 999) / 1000)
        } else if status == .serviceUnavailable {
            headers[.retryAfter] = "1"
        }
        return RESTGateway.json(body, status: status, headers: headers)
    }
}
