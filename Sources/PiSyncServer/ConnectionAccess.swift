import PiSyncAuth
import PiSyncProtocol

/// What one connection may do: everything when the server has auth off; otherwise nothing but
/// Authenticate until a token is accepted, then what the token's role allows.
///
/// - A device token records its own device's events only; a request or an event naming another
///   device gets PERMISSION_DENIED with the field. It may not read or subscribe.
/// - An operator token may do everything, recording for any device included (an importer).
struct ConnectionAccess {
    enum State: Equatable {
        /// The server has auth off.
        case open
        /// Auth is on and no token was accepted yet.
        case unauthenticated
        case authenticated(Identity)
        /// A token was refused; the connection closes shortly.
        case refused
    }

    private(set) var state: State
    /// The identity came from a verified client certificate (a token may take over from it).
    private(set) var byCertificate = false

    init(authRequired: Bool) {
        state = authRequired ? .unauthenticated : .open
    }

    /// The identity the connection authenticated as, if any.
    var identity: Identity? {
        if case .authenticated(let identity) = state { identity } else { nil }
    }

    /// Whether RecordSync on this connection counts against the per-device rate limit: every
    /// connection's does except an operator's.
    var isRateLimited: Bool { identity?.role != .operator_ }

    mutating func authenticated(as identity: Identity, byCertificate: Bool = false) {
        state = .authenticated(identity)
        self.byCertificate = byCertificate
    }
    mutating func refused() { state = .refused }

    /// Why the connection may not make `request`'s call, if it may not. RecordSync is checked
    /// by ``authorize(id:_:)``, Authenticate by the handler.
    func refusal(for request: Pisync_V1_Request) -> Pisync_V1_Response? {
        guard state != .open else { return nil }  // the hot path with auth off
        switch request.call {
        case .recordSync, .authenticate: return nil
        case .getHistory: return refusal(id: request.id, call: "GetHistory", operatorOnly: true)
        case .listFailures: return refusal(id: request.id, call: "ListFailures", operatorOnly: true)
        case .subscribeFailureAlerts: return refusal(id: request.id, call: "SubscribeFailureAlerts", operatorOnly: true)
        case .cancel: return refusal(id: request.id, call: "Cancel", operatorOnly: true)
        case .ping, nil: return refusal(id: request.id, call: "Ping", operatorOnly: false)
        }
    }

    private func refusal(id: UInt64, call: String, operatorOnly: Bool) -> Pisync_V1_Response? {
        switch state {
        case .open: return nil
        case .unauthenticated, .refused: return Self.unauthenticated(id: id)
        case .authenticated(let identity):
            guard operatorOnly, identity.role != .operator_ else { return nil }
            return .failure(
                id: id, .permissionDenied,
                "\(call) needs an operator token; this connection holds a device token for '\(identity.name)'")
        }
    }

    /// Checks a RecordSync against the connection's identity; a device token's request that
    /// names no device is given the token's device. Returns the request to record, or the refusal.
    func authorize(
        id: UInt64, _ request: Pisync_V1_RecordSyncRequest
    ) -> Result<Pisync_V1_RecordSyncRequest, RefusedRequest> {
        switch state {
        case .open: return .success(request)
        case .unauthenticated, .refused: return .failure(RefusedRequest(response: Self.unauthenticated(id: id)))
        case .authenticated(let identity):
            guard identity.role == .device else { return .success(request) }
            let device = identity.name
            if !request.deviceID.isEmpty, request.deviceID != device {
                return .failure(
                    RefusedRequest(
                        response: .failure(
                            id: id, .permissionDenied,
                            "device_id '\(request.deviceID)' is not this connection's device: its token is for '\(device)'",
                            field: "device_id")))
            }
            if let index = request.events.firstIndex(where: { !$0.deviceID.isEmpty && $0.deviceID != device }) {
                return .failure(
                    RefusedRequest(
                        response: .failure(
                            id: id, .permissionDenied,
                            "event \(index) names device '\(request.events[index].deviceID)', but this connection's token is for '\(device)'; nothing was recorded",
                            field: "device_id")))
            }
            var request = request
            request.deviceID = device
            return .success(request)
        }
    }

    static func unauthenticated(id: UInt64) -> Pisync_V1_Response {
        .failure(
            id: id, .unauthenticated,
            "this server requires auth: send Authenticate with a token (pisync token) before any other call")
    }
}

/// A request the connection's access refused, with the answer to send.
struct RefusedRequest: Error {
    let response: Pisync_V1_Response
}
