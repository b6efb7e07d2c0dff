/// The most recent alerts and recovery notices, oldest first, bounded: what a subscriber that
/// reconnects with its last sequence number can be sent again.
///
/// The store keeps one, numbered under the same lock that journals each alert, so the history
/// that a snapshot saves and the log records after it rebuild is exactly what was raised.
public struct AlertHistory: Sendable, Equatable {
    /// The most alerts kept; older ones fall off the front.
    public let capacity: Int
    private var storage: [FailureAlert] = []
    /// Index in `storage` of the oldest alert once it is full.
    private var head = 0

    /// Creates an empty history that keeps at most `capacity` alerts (0 keeps none).
    public init(capacity: Int) {
        self.capacity = max(0, capacity)
    }

    /// Alerts held, oldest first.
    public var alerts: [FailureAlert] {
        Array(storage[head...] + storage[..<head])
    }

    /// Number of alerts held.
    public var count: Int { storage.count }

    /// Sequence number of the newest alert held, 0 when none is.
    public var lastSequence: UInt64 {
        guard !storage.isEmpty else { return 0 }
        return storage[(head + storage.count - 1) % storage.count].sequence
    }

    /// Adds `alert` as the newest, dropping the oldest when full. An alert numbered at or below
    /// the newest held is already here (a snapshot and the log after it both carry it) and is
    /// skipped, so rebuilding from both gives each alert once.
    public mutating func append(_ alert: FailureAlert) {
        guard capacity > 0, alert.sequence > lastSequence else { return }
        if storage.count < capacity {
            storage.append(alert)
        } else {
            storage[head] = alert
            head = (head + 1) % capacity
        }
    }

    /// Adds each of `alerts`, in order (see ``append(_:)``).
    public mutating func append(contentsOf alerts: some Sequence<FailureAlert>) {
        for alert in alerts { append(alert) }
    }
}
