import Foundation
import PiSyncAuth
import PiSyncProtocol

/// Secrets, tokens and events the admin tests share.
enum AdminFixtures {
    static let secrets = AuthSecrets([(keyID: "k1", secret: Array("admin-test-secret-0123456789abcdef-0123".utf8))])
    static let operatorToken = secrets.mint(role: .operator_, name: "ops")
    static let deviceToken = secrets.mint(role: .device, name: "pibook-001")

    /// A sync of `device`, `secondsAgo` in the past: successful, or failed.
    static func event(_ device: String, secondsAgo: Int64 = 60, failed: Bool = false) -> Pisync_V1_SyncEvent {
        .with {
            $0.deviceID = device
            $0.timestamp = Int64(Date().timeIntervalSince1970 * 1000) - secondsAgo * 1000
            $0.totalFilesSynced = failed ? 0 : 3
            $0.totalErrors = failed ? 2 : 0
            $0.internetSpeed = 4
        }
    }
}
