import Foundation
import PiSyncAuth
import PiSyncProtocol

/// Secrets, tokens and requests the auth tests share.
enum AuthFixtures {
    static let secrets = AuthSecrets([(keyID: "k1", secret: Array("test-secret-0123456789abcdef-0123456789".utf8))])

    static func token(device: String) -> String { secrets.mint(role: .device, name: device) }
    static func token(operator name: String) -> String { secrets.mint(role: .operator_, name: name) }

    static func authenticate(_ id: UInt64, _ token: String) -> Pisync_V1_Request {
        .with { $0.id = id; $0.authenticate = .with { $0.token = token } }
    }

    /// A successful sync of `device`, `secondsAgo` in the past.
    static func event(_ device: String = "", secondsAgo: Int64 = 60) -> Pisync_V1_SyncEvent {
        .with {
            $0.deviceID = device
            $0.timestamp = Int64(Date().timeIntervalSince1970 * 1000) - secondsAgo * 1000
            $0.totalFilesSynced = 3
        }
    }

    static func record(_ id: UInt64, device: String = "", _ events: [Pisync_V1_SyncEvent]) -> Pisync_V1_Request {
        .with { $0.id = id; $0.recordSync = .with { $0.deviceID = device; $0.events = events } }
    }

    static func history(_ id: UInt64, _ device: String) -> Pisync_V1_Request {
        .with { $0.id = id; $0.getHistory = .with { $0.deviceID = device } }
    }
}

extension RawConnection {
    /// Sends `request` and returns the next response.
    func call(_ request: Pisync_V1_Request) async throws -> Pisync_V1_Response {
        try await send(request)
        guard let response = try await next() else { throw ConnectionClosed() }
        return response
    }
}

struct ConnectionClosed: Error {}
