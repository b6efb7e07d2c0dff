/// One device's whole state as a snapshot holds it: its events and whether its current
/// failure streak has already alerted. Counters are derived again on restore.
public struct DeviceRecord: Sendable, Hashable {
    /// The device.
    public var deviceID: String
    /// Its events, ascending by timestamp, timestamps unique.
    public var events: [StoredSync]
    /// Whether the device's current failure streak has already raised its alert.
    public var streakAlerted: Bool

    /// Creates a record.
    public init(deviceID: String, events: [StoredSync], streakAlerted: Bool) {
        self.deviceID = deviceID
        self.events = events
        self.streakAlerted = streakAlerted
    }
}
