import Foundation
import PiSyncProtocol

/// A result the CLI prints with `--json`.
///
/// Each has a complete JSON shape under the proto field names: every field is present, zeros
/// and empty lists included. proto3's JSON mapping leaves such fields out, which leaves a
/// script reading `duplicates` or `devices` with no key at all.
protocol JSONPrintable {
    associatedtype View: Encodable
    var jsonView: View { get }
}

/// The JSON shapes; property names become snake_case keys.
enum JSONView {
    struct Event: Encodable {
        let deviceId: String
        let timestamp: Int64
        let totalFilesSynced: UInt32
        let totalErrors: UInt32
        let internetSpeed: Float
        let syncStatus: String
    }

    struct Rejected: Encodable {
        let index: UInt32
        let code: UInt32
        let field: String
        let message: String
    }

    struct Record: Encodable {
        let accepted: UInt32
        let duplicates: UInt32
        let rejected: [Rejected]
    }

    struct History: Encodable {
        let events: [Event]
        let total: UInt64
        let page: UInt32
        let limit: UInt32
        let archived: UInt64
        let archivedThrough: Int64
    }

    struct Device: Encodable {
        let deviceId: String
        let failedSyncs: UInt64
        let totalSyncs: UInt64
        let consecutiveFailures: UInt32
        let lastFailureTimestamp: Int64
        let lastSuccessTimestamp: Int64
    }

    struct Failures: Encodable {
        let devices: [Device]
        let total: UInt64
        let page: UInt32
        let limit: UInt32
        let threshold: UInt32
    }

    struct Alert: Encodable {
        let sequence: UInt64
        let deviceId: String
        let consecutiveFailures: UInt32
        let firstFailureTimestamp: Int64
        let lastFailureTimestamp: Int64
    }

    struct Recovered: Encodable {
        let sequence: UInt64
        let deviceId: String
        let recoveredTimestamp: Int64
        let syncStatus: String
        let lastFailureTimestamp: Int64
    }

    struct Ping: Encodable {
        let version: String
        let uptimeMs: UInt64
        let maxBatchSize: UInt32
        let maxFrameSize: UInt32
        let authRequired: Bool
        /// `null` from a server that predates readiness in Ping.
        let health: Health?

        private enum CodingKeys: String, CodingKey {
            case version, uptimeMs, maxBatchSize, maxFrameSize, authRequired, health
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(version, forKey: .version)
            try container.encode(uptimeMs, forKey: .uptimeMs)
            try container.encode(maxBatchSize, forKey: .maxBatchSize)
            try container.encode(maxFrameSize, forKey: .maxFrameSize)
            try container.encode(authRequired, forKey: .authRequired)
            try container.encode(health, forKey: .health)  // null when absent, not left out
        }
    }

    struct Health: Encodable {
        let ready: Bool
        let reasons: [String]
    }
}

extension Pisync_V1_SyncStatus {
    /// The enum value's name in the contract, as protobuf JSON spells it.
    var protoName: String {
        switch self {
        case .unspecified: "SYNC_STATUS_UNSPECIFIED"
        case .success: "SYNC_STATUS_SUCCESS"
        case .partial: "SYNC_STATUS_PARTIAL"
        case .failed: "SYNC_STATUS_FAILED"
        case .UNRECOGNIZED(let value): "\(value)"
        }
    }
}

extension Pisync_V1_SyncEvent {
    var jsonView: JSONView.Event {
        .init(deviceId: deviceID, timestamp: timestamp, totalFilesSynced: totalFilesSynced, totalErrors: totalErrors,
              internetSpeed: internetSpeed, syncStatus: syncStatus.protoName)
    }
}

extension Pisync_V1_RecordSyncResponse: JSONPrintable {
    var jsonView: JSONView.Record {
        .init(accepted: accepted, duplicates: duplicates, rejected: rejected.map {
            .init(index: $0.index, code: $0.code, field: $0.field, message: $0.message)
        })
    }
}

extension Pisync_V1_GetHistoryResponse: JSONPrintable {
    var jsonView: JSONView.History {
        .init(
            events: events.map(\.jsonView), total: total, page: page, limit: limit, archived: archived,
            archivedThrough: archivedThrough)
    }
}

extension Pisync_V1_ListFailuresResponse: JSONPrintable {
    var jsonView: JSONView.Failures {
        .init(devices: devices.map {
            .init(deviceId: $0.deviceID, failedSyncs: $0.failedSyncs, totalSyncs: $0.totalSyncs,
                  consecutiveFailures: $0.consecutiveFailures, lastFailureTimestamp: $0.lastFailureTimestamp,
                  lastSuccessTimestamp: $0.lastSuccessTimestamp)
        }, total: total, page: page, limit: limit, threshold: threshold)
    }
}

extension Pisync_V1_FailureAlert: JSONPrintable {
    var jsonView: JSONView.Alert {
        .init(sequence: sequence, deviceId: deviceID, consecutiveFailures: consecutiveFailures,
              firstFailureTimestamp: firstFailureTimestamp, lastFailureTimestamp: lastFailureTimestamp)
    }
}

extension Pisync_V1_DeviceRecovered: JSONPrintable {
    var jsonView: JSONView.Recovered {
        .init(sequence: sequence, deviceId: deviceID, recoveredTimestamp: recoveredTimestamp,
              syncStatus: syncStatus.protoName, lastFailureTimestamp: lastFailureTimestamp)
    }
}

extension Pisync_V1_PingResponse: JSONPrintable {
    var jsonView: JSONView.Ping {
        .init(
            version: version, uptimeMs: uptimeMs, maxBatchSize: maxBatchSize, maxFrameSize: maxFrameSize,
            authRequired: authRequired, health: hasHealth ? .init(ready: health.ready, reasons: health.reasons) : nil)
    }
}
