/// A sync as the store keeps it: the event without its device id, which its history holds once.
public struct StoredSync: Sendable, Hashable {
    /// Unix epoch milliseconds, UTC.
    public var timestamp: Int64
    /// Files the sync transferred.
    public var filesSynced: UInt32
    /// Errors the sync hit.
    public var errors: UInt32
    /// Link speed during the sync, in Mbps.
    public var internetSpeed: Float

    /// The status derived from the counts.
    public var status: SyncStatus { SyncStatus(filesSynced: filesSynced, errors: errors) }

    /// The stored form of `event`.
    public init(_ event: SyncEvent) {
        timestamp = event.timestamp
        filesSynced = event.filesSynced
        errors = event.errors
        internetSpeed = event.internetSpeed
    }

    /// Creates a stored sync.
    public init(timestamp: Int64, filesSynced: UInt32, errors: UInt32, internetSpeed: Float) {
        self.timestamp = timestamp
        self.filesSynced = filesSynced
        self.errors = errors
        self.internetSpeed = internetSpeed
    }

    /// The event of `deviceID` this sync is.
    public func event(of deviceID: String) -> SyncEvent {
        SyncEvent(
            deviceID: deviceID, timestamp: timestamp, filesSynced: filesSynced, errors: errors,
            internetSpeed: internetSpeed)
    }
}
