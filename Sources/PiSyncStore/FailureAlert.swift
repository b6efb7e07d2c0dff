/// Raised once when a device's run of consecutive failed syncs reaches the alert threshold.
public struct FailureAlert: Sendable, Hashable {
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

    /// Creates an alert.
    public init(
        sequence: UInt64, deviceID: String, consecutiveFailures: Int, firstFailureTimestamp: Int64,
        lastFailureTimestamp: Int64
    ) {
        self.sequence = sequence
        self.deviceID = deviceID
        self.consecutiveFailures = consecutiveFailures
        self.firstFailureTimestamp = firstFailureTimestamp
        self.lastFailureTimestamp = lastFailureTimestamp
    }
}
