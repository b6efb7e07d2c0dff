/// One sync reported by a device.
public struct SyncEvent: Sendable, Hashable {
    /// The device that synced.
    public var deviceID: String
    /// Unix epoch milliseconds, UTC. Together with `deviceID` it identifies the event.
    public var timestamp: Int64
    /// Files the sync transferred.
    public var filesSynced: UInt32
    /// Errors the sync hit.
    public var errors: UInt32
    /// Link speed during the sync, in Mbps.
    public var internetSpeed: Float

    /// The status derived from the counts.
    public var status: SyncStatus { SyncStatus(filesSynced: filesSynced, errors: errors) }

    /// Creates an event.
    public init(deviceID: String, timestamp: Int64, filesSynced: UInt32, errors: UInt32, internetSpeed: Float) {
        self.deviceID = deviceID
        self.timestamp = timestamp
        self.filesSynced = filesSynced
        self.errors = errors
        self.internetSpeed = internetSpeed
    }
}
