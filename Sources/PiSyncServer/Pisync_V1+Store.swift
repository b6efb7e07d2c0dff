import PiSyncProtocol
import PiSyncStore

extension Pisync_V1_SyncEvent {
    /// The wire form of a stored event, with its derived status.
    public init(_ event: SyncEvent) {
        self.init()
        deviceID = event.deviceID
        timestamp = event.timestamp
        totalFilesSynced = event.filesSynced
        totalErrors = event.errors
        internetSpeed = event.internetSpeed
        syncStatus = Pisync_V1_SyncStatus(event.status)
    }
}

extension Pisync_V1_SyncStatus {
    /// The wire form of a status.
    public init(_ status: SyncStatus) {
        switch status {
        case .success: self = .success
        case .partial: self = .partial
        case .failed: self = .failed
        }
    }
}

extension Pisync_V1_DeviceFailures {
    init(_ summary: DeviceFailureSummary) {
        self.init()
        deviceID = summary.deviceID
        failedSyncs = UInt64(summary.failedSyncs)
        totalSyncs = UInt64(summary.totalSyncs)
        consecutiveFailures = UInt32(clamping: summary.consecutiveFailures)
        lastFailureTimestamp = summary.lastFailureTimestamp
        lastSuccessTimestamp = summary.lastSuccessTimestamp ?? 0
    }
}

extension Pisync_V1_FailureAlert {
    init(_ alert: FailureAlert) {
        self.init()
        sequence = alert.sequence
        deviceID = alert.deviceID
        consecutiveFailures = UInt32(clamping: alert.consecutiveFailures)
        firstFailureTimestamp = alert.firstFailureTimestamp
        lastFailureTimestamp = alert.lastFailureTimestamp
    }
}

extension Pisync_V1_DeviceRecovered {
    init(_ alert: FailureAlert, _ recovery: FailureAlert.Recovery) {
        self.init()
        sequence = alert.sequence
        deviceID = alert.deviceID
        recoveredTimestamp = recovery.timestamp
        syncStatus = Pisync_V1_SyncStatus(recovery.status)
        lastFailureTimestamp = alert.lastFailureTimestamp
    }
}
