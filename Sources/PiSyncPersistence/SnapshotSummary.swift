/// What a snapshot holds, as its header and trailer say.
public struct SnapshotSummary: Sendable, Hashable {
    /// Every log record up to this sequence number is in the snapshot (0 for format 1).
    public var logSequence: UInt64
    /// Unix ms when it was taken.
    public var takenAt: Int64
    /// Devices in it.
    public var devices: Int
    /// Events in it.
    public var events: Int
    /// The last alert sequence number it knows.
    public var lastAlertSequence: UInt64
    /// Size of the file in bytes.
    public var bytes: Int64
}
