import PiSyncStore

/// What one write-ahead log record holds, as recovery reads it.
public struct DecodedLogRecord: Sendable {
    /// The events, grouped by device (each device's in logged order).
    public var devices: [DeviceRecord]
    /// The highest alert sequence number the events raised (0 when none).
    public var lastAlertSequence: UInt64
    /// The alerts and recovery notices they raised, in sequence order (none in records written
    /// before the alert history was logged).
    public var alerts: [FailureAlert]
}
