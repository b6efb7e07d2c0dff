/// What stays in memory: events older than ``maxAge`` (by event timestamp, against the server
/// clock) and those beyond a device's newest ``maxEventsPerDevice`` move to the archive.
/// Both are off (`nil`) by default: everything stays in memory.
public struct RetentionPolicy: Sendable, Hashable {
    /// Milliseconds an event stays in memory after its timestamp.
    public var maxAge: Int64?
    /// The newest events of a device kept in memory.
    public var maxEventsPerDevice: Int?

    /// Creates a policy from `--retain-days` and `--retain-events-per-device`; 0 turns a rule off.
    public init(retainDays: Int = 0, retainEventsPerDevice: Int = 0) {
        maxAge = retainDays > 0 ? Int64(retainDays) * 86_400_000 : nil
        maxEventsPerDevice = retainEventsPerDevice > 0 ? retainEventsPerDevice : nil
    }

    /// Whether any rule is on.
    public var isEnabled: Bool { maxAge != nil || maxEventsPerDevice != nil }
}
