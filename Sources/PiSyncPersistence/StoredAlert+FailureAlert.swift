import PiSyncStore

extension Pisync_Storage_V1_StoredAlert {
    /// The stored form of `alert` (log records and snapshots).
    init(_ alert: FailureAlert) {
        self.init()
        sequence = alert.sequence
        deviceID = alert.deviceID
        consecutiveFailures = UInt32(clamping: alert.consecutiveFailures)
        firstFailureTimestamp = alert.firstFailureTimestamp
        lastFailureTimestamp = alert.lastFailureTimestamp
        if let recovery = alert.recovery {
            self.recovery = .with {
                $0.timestamp = recovery.timestamp
                $0.syncStatus = recovery.status == .partial ? 2 : 1
            }
        }
    }
}

extension FailureAlert {
    /// The alert `stored` holds.
    /// - Throws: ``LogRecordError`` for a recovery whose status is neither success nor partial.
    init(_ stored: Pisync_Storage_V1_StoredAlert) throws {
        var recovery: Recovery?
        if stored.hasRecovery {
            let status: SyncStatus
            switch stored.recovery.syncStatus {
            case 1: status = .success
            case 2: status = .partial
            default: throw LogRecordError("recovery of alert \(stored.sequence) has status \(stored.recovery.syncStatus)")
            }
            recovery = Recovery(timestamp: stored.recovery.timestamp, status: status)
        }
        self.init(
            sequence: stored.sequence, deviceID: stored.deviceID, consecutiveFailures: Int(stored.consecutiveFailures),
            firstFailureTimestamp: stored.firstFailureTimestamp, lastFailureTimestamp: stored.lastFailureTimestamp,
            recovery: recovery)
    }
}
