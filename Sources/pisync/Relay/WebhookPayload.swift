import Foundation
import PiSyncClient
import PiSyncProtocol

/// The JSON body `pisync relay` POSTs for each alert, recovery or lost-alerts notice.
///
/// `text` is a one-line message for people: Slack and Mattermost incoming webhooks post it as
/// it is. The other fields carry the same facts for programs; timestamps are ISO 8601 UTC with
/// milliseconds, and `sequence` (absent on a notice) lets a receiver drop a repeat.
struct WebhookPayload: Encodable, Sendable, Equatable {
    /// `alert`, `recovered` or `alerts_lost`.
    let kind: String
    let text: String
    /// The PiSync server the relay subscribes to, as `host:port`.
    let server: String
    var sequence: UInt64?
    var deviceId: String?
    var consecutiveFailures: UInt32?
    var firstFailureTimestamp: String?
    var lastFailureTimestamp: String?
    var recoveredTimestamp: String?
    var syncStatus: String?
    var alertsLost: UInt64?
    var fromSequence: UInt64?
    var lastSequence: UInt64?

    /// A device's run of failures reached the server's threshold.
    init(_ alert: Pisync_V1_FailureAlert, server: String) {
        let first = Output.time(alert.firstFailureTimestamp)
        let last = Output.time(alert.lastFailureTimestamp)
        kind = "alert"
        text = "PiSync alert #\(alert.sequence): \(alert.deviceID) failed \(alert.consecutiveFailures) syncs in a row "
            + "(\(first) .. \(last))"
        self.server = server
        sequence = alert.sequence
        deviceId = alert.deviceID
        consecutiveFailures = alert.consecutiveFailures
        firstFailureTimestamp = first
        lastFailureTimestamp = last
    }

    /// A device that alerted synced again.
    init(_ recovered: Pisync_V1_DeviceRecovered, server: String) {
        let at = Output.time(recovered.recoveredTimestamp)
        kind = "recovered"
        text = "PiSync recovered #\(recovered.sequence): \(recovered.deviceID) synced again (\(recovered.syncStatus.label)) at \(at)"
        self.server = server
        sequence = recovered.sequence
        deviceId = recovered.deviceID
        recoveredTimestamp = at
        syncStatus = recovered.syncStatus.label
        lastFailureTimestamp = Output.time(recovered.lastFailureTimestamp)
    }

    /// The server no longer holds `lost` alerts after `from`: they will never be delivered.
    init(lost: UInt64, after from: UInt64, lastSequence: UInt64, server: String) {
        kind = "alerts_lost"
        text = "PiSync: \(lost) \(lost == 1 ? "alert" : "alerts") after #\(from) \(lost == 1 ? "was" : "were") lost: "
            + "the server no longer holds \(lost == 1 ? "it" : "them")"
        self.server = server
        alertsLost = lost
        fromSequence = from
        self.lastSequence = lastSequence
    }

    /// The payload of an event from the stream.
    init(_ event: FailureAlertStream.Event, server: String) {
        switch event {
        case .alert(let alert): self.init(alert, server: server)
        case .recovered(let recovered): self.init(recovered, server: server)
        }
    }

    /// What the logs call it: `alert #12`, `recovered #13`, `lost-alerts notice`.
    var label: String {
        sequence.map { "\(kind) #\($0)" } ?? "lost-alerts notice"
    }

    /// The body: snake_case keys, sorted, absent fields left out.
    func json() throws -> Data {
        try Output.json(self)
    }
}
