import NIOCore
import NIOPosix
import NIOSSL
import PiSyncClient

#if canImport(Glibc)
import Glibc
#endif

/// What a person needs to know when the CLI cannot reach the server, instead of NIO's internals.
enum ConnectFailure {
    static let hint = "set --server or PISYNC_SERVER"

    /// `cannot connect to HOST:PORT: WHY (HINT)`.
    static func message(host: String, port: Int, timeout: Duration, _ error: any Error) -> String {
        "cannot connect to \(host):\(port): \(reason(host: host, timeout: timeout, error))"
    }

    static func reason(host: String, timeout: Duration, _ error: any Error) -> String {
        switch error {
        case let error as NIOConnectionError:
            if error.dnsAError != nil || error.dnsAAAAError != nil || error.connectionErrors.isEmpty {
                return "cannot resolve host '\(host)' (is the name right? \(hint))"
            }
            // Happy Eyeballs tries IPv6 first: a refusal on any address says more than an
            // IPv6 "cannot assign address" on a host without IPv6.
            let refused = error.connectionErrors.first { ($0.error as? IOError)?.errnoCode == ECONNREFUSED }
            let ipv4 = error.connectionErrors.first { if case .v4 = $0.target { true } else { false } }
            return reason(host: host, timeout: timeout, (refused ?? ipv4 ?? error.connectionErrors[0]).error)
        case let error as IOError:
            switch error.errnoCode {
            case ECONNREFUSED: return "connection refused (is pisync serve running? \(hint))"
            case ETIMEDOUT: return "timed out (is the server reachable? \(hint))"
            case EHOSTUNREACH, ENETUNREACH: return "host unreachable (\(hint))"
            default: return "\(String(cString: strerror(error.errnoCode))) (\(hint))"
            }
        case ChannelError.connectTimeout:
            return "no answer within \(Int(timeout.components.seconds)) s (is the server reachable? \(hint))"
        case let error as NIOSSLError:
            return "TLS handshake failed: \(error) (check --tls-ca, and that the server's certificate names '\(host)')"
        case let error as PiSyncClientError:
            return "\(error)"
        default:
            return "\(error) (\(hint))"
        }
    }
}
