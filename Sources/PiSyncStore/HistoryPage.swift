/// One page of a device's sync history, newest first.
public struct HistoryPage: Sendable, Hashable {
    /// The page's events, newest first by timestamp.
    public var events: [SyncEvent]
    /// All events stored for the device, archived ones included.
    public var total: Int
    /// The page that was read.
    public var page: PageRequest
    /// The oldest `archived` of `total` events are in the archive, not in pages.
    public var archived: Int = 0
    /// The newest archived event's timestamp (`nil` when none is archived): the archive holds
    /// the device's events up to it.
    public var archivedThrough: Int64?
}

/// A device's failure record, as ListFailures reports it.
public struct DeviceFailureSummary: Sendable, Hashable {
    /// The device.
    public var deviceID: String
    /// Its failed syncs.
    public var failedSyncs: Int
    /// All its syncs.
    public var totalSyncs: Int
    /// Its current run of failed syncs.
    public var consecutiveFailures: Int
    /// Its newest failed sync.
    public var lastFailureTimestamp: Int64
    /// Its newest successful sync, if any.
    public var lastSuccessTimestamp: Int64?
}

/// One page of the devices over a failure threshold.
public struct FailurePage: Sendable, Hashable {
    /// The page's devices, by failed count (highest first), then newest failure.
    public var devices: [DeviceFailureSummary]
    /// All devices over the threshold.
    public var total: Int
    /// The page that was read.
    public var page: PageRequest
    /// Devices with more failures than this are listed.
    public var threshold: Int
}
