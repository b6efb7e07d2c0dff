/// Raised once when a device's run of consecutive failed syncs reaches the alert threshold,
/// and again, as a recovery, when a sync newer than an alerted run ends it.
public struct FailureAlert: Sendable, Hashable {
    /// A recovery: the sync that ended an alerted run.
    public struct Recovery: Sendable, Hashable {
        /// When that sync happened.
        public var timestamp: Int64
        /// Its status: success or partial.
        public var status: SyncStatus

        /// Creates a recovery.
        public init(timestamp: Int64, status: SyncStatus) {
            self.timestamp = timestamp
            self.status = status
        }
    }

    /// Increases across the server; assigned when the alert is published.
    public var sequence: UInt64
    /// The failing device.
    public var deviceID: String
    /// The length of the run when the alert fired.
    public var consecutiveFailures: Int
    /// Timestamp of the run's first failed sync.
    public var firstFailureTimestamp: Int64
    /// Timestamp of the run's newest failed sync.
    public var lastFailureTimestamp: Int64
    /// Set when this is not an alert but the end of an alerted run: the device recovered.
    public var recovery: Recovery?

    /// Creates an alert.
    public init(
        sequence: UInt64, deviceID: String, consecutiveFailures: Int, firstFailureTimestamp: Int64,
        lastFailureTimestamp: Int64, recovery: Recovery? = nil
    ) {
        self.sequence = sequence
        self.deviceID = deviceID
        self.consecutiveFailures = consecutiveFailures
        self.firstFailureTimestamp = firstFailureTimestamp
        self.lastFailureTimestamp = lastFailureTimestamp
        self.recovery = recovery
    }
}
