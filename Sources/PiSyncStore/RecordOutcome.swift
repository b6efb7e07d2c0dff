/// What a ``SyncStore/record(_:now:)`` call did with each event.
public struct RecordOutcome: Sendable, Hashable {
    /// An event that was not stored, by its position in the recorded batch.
    public struct Rejection: Sendable, Hashable {
        /// Position of the event in the batch (0-based).
        public var index: Int
        /// The rule it broke.
        public var violation: FieldViolation

        /// Creates a rejection.
        public init(index: Int, violation: FieldViolation) {
            self.index = index
            self.violation = violation
        }
    }

    /// Events newly stored.
    public var accepted = 0
    /// Events whose `(device_id, timestamp)` was already stored; not stored again.
    public var duplicates = 0
    /// Events that broke a rule, in index order.
    public var rejected: [Rejection] = []
    /// Alerts this call raised, with their sequence numbers.
    public var alerts: [FailureAlert] = []

    /// Creates an empty outcome.
    public init() {}

    /// Adds what storing another part of the batch did.
    mutating func merge(_ other: RecordOutcome) {
        accepted += other.accepted
        duplicates += other.duplicates
        alerts += other.alerts
    }
}
