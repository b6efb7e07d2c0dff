/// One device's whole state as a snapshot holds it: its events held in memory, whether its
/// current failure streak has already alerted, and what its archived events contributed.
/// Counters are derived again on restore.
public struct DeviceRecord: Sendable, Hashable {
    /// The device.
    public var deviceID: String
    /// Its events, ascending by timestamp, timestamps unique.
    public var events: [StoredSync]
    /// Whether the device's current failure streak has already raised its alert.
    public var streakAlerted: Bool
    /// What its archived events contributed to its counters (`nil`: none archived).
    public var archived: ArchivedPart?

    /// Creates a record.
    public init(deviceID: String, events: [StoredSync], streakAlerted: Bool, archived: ArchivedPart? = nil) {
        self.deviceID = deviceID
        self.events = events
        self.streakAlerted = streakAlerted
        self.archived = archived
    }
}
