import PiSyncProtocol

/// The calls requests are counted by: the `call` label of `pisync_requests_total`. A bounded
/// set, so that a label never grows with what clients send.
public enum RequestCall: Int, CaseIterable, Sendable {
    case recordSync, getHistory, listFailures, subscribeFailureAlerts, cancel, ping, authenticate
    /// A frame that is not a request, names no call, or names one this server does not know.
    case unknown

    /// The label value: the call's field name in `Request`.
    public var label: String {
        switch self {
        case .recordSync: "record_sync"
        case .getHistory: "get_history"
        case .listFailures: "list_failures"
        case .subscribeFailureAlerts: "subscribe_failure_alerts"
        case .cancel: "cancel"
        case .ping: "ping"
        case .authenticate: "authenticate"
        case .unknown: "unknown"
        }
    }

    init(_ call: Pisync_V1_Request.OneOf_Call?) {
        switch call {
        case .recordSync: self = .recordSync
        case .getHistory: self = .getHistory
        case .listFailures: self = .listFailures
        case .subscribeFailureAlerts: self = .subscribeFailureAlerts
        case .cancel: self = .cancel
        case .ping: self = .ping
        case .authenticate: self = .authenticate
        case nil: self = .unknown
        }
    }
}
