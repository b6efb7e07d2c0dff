/// A sync as the store keeps it: the event without its device id, which its history holds once.
struct StoredSync: Sendable, Hashable {
    var timestamp: Int64
    var filesSynced: UInt32
    var errors: UInt32
    var internetSpeed: Float

    var status: SyncStatus { SyncStatus(filesSynced: filesSynced, errors: errors) }

    init(_ event: SyncEvent) {
        timestamp = event.timestamp
        filesSynced = event.filesSynced
        errors = event.errors
        internetSpeed = event.internetSpeed
    }

    init(timestamp: Int64, filesSynced: UInt32, errors: UInt32, internetSpeed: Float) {
        self.timestamp = timestamp
        self.filesSynced = filesSynced
        self.errors = errors
        self.internetSpeed = internetSpeed
    }

    func event(of deviceID: String) -> SyncEvent {
        SyncEvent(
            deviceID: deviceID, timestamp: timestamp, filesSynced: filesSynced, errors: errors,
            internetSpeed: internetSpeed)
    }
}
