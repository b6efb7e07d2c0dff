/// One device's stored syncs, ascending by timestamp, with the counters derived from them.
///
/// Every counter is maintained on insert so that reads never scan the history.
struct DeviceHistory: Sendable {
    /// The device's syncs, ascending by timestamp; timestamps are unique.
    private(set) var events: [StoredSync] = []
    /// Events whose status is `.failed`.
    private(set) var failedCount = 0
    /// Newest failed sync, if any.
    private(set) var lastFailure: Int64?
    /// Newest successful sync, if any.
    private(set) var lastSuccess: Int64?
    /// Length of the trailing run of failed events.
    private(set) var streak = 0
    /// Whether the current streak has already raised its alert.
    var streakAlerted = false

    /// What one insert did to the device.
    enum InsertOutcome: Equatable {
        /// An event with the same timestamp is stored; nothing changed (first write wins).
        case duplicate
        /// The event was stored.
        case stored
    }

    /// An empty history.
    init() {}

    /// The history of a restored device: `events` (ascending) stored with exactly the capacity
    /// they need, so a restored store takes no more memory than the one that was saved.
    init(restoring events: [StoredSync], streakAlerted: Bool) {
        self.events.reserveCapacity(events.count)
        for event in events {
            _ = insert(event)
        }
        self.streakAlerted = streakAlerted
    }

    /// Makes room for `count` more events at once, so that a replay does not double the array.
    mutating func reserveCapacity(forAdding count: Int) {
        events.reserveCapacity(events.count + count)
    }

    /// Reallocates the events at their exact size when more than an eighth is spare.
    mutating func trimCapacity() {
        guard events.capacity - events.count > events.count / 8 else { return }
        let count = events.count
        events = events.withUnsafeBufferPointer { old in
            [StoredSync](unsafeUninitializedCapacity: count) { buffer, initialized in
                _ = buffer.initialize(from: old)
                initialized = count
            }
        }
    }

    /// Stores `event` in timestamp order unless its timestamp is taken.
    mutating func insert(_ event: StoredSync) -> InsertOutcome {
        let position = insertionIndex(for: event.timestamp)
        if position < events.count, events[position].timestamp == event.timestamp {
            return .duplicate
        }
        events.insert(event, at: position)
        let status = event.status
        switch status {
        case .failed:
            failedCount += 1
            lastFailure = max(lastFailure ?? event.timestamp, event.timestamp)
        case .success:
            lastSuccess = max(lastSuccess ?? event.timestamp, event.timestamp)
        case .partial:
            break
        }
        updateStreak(insertedAt: position, status: status)
        return .stored
    }

    /// Timestamp of the first event of the current streak (`nil` when there is none).
    var streakStart: Int64? {
        streak == 0 ? nil : events[events.count - streak].timestamp
    }

    /// The events of a newest-first page, in ascending order (reverse them to present).
    func newestFirst(_ page: PageRequest) -> ArraySlice<StoredSync> {
        guard page.offset < events.count else { return [] }
        let upper = events.count - page.offset
        return events[max(0, upper - page.limit)..<upper]
    }

    /// Call after each stored event: describes the alert when the streak has just reached
    /// `threshold` and marks the streak alerted. A streak that has alerted stays alerted until
    /// it falls below the threshold (a success or partial newer than its failures), so one
    /// arriving late inside the run does not alert the same failures twice.
    mutating func takeDueAlert(threshold: Int, deviceID: String) -> FailureAlert? {
        if streak < threshold {
            streakAlerted = false
            return nil
        }
        guard !streakAlerted, let first = streakStart, let last = events.last else {
            return nil
        }
        streakAlerted = true
        return FailureAlert(
            sequence: 0, deviceID: deviceID, consecutiveFailures: streak, firstFailureTimestamp: first,
            lastFailureTimestamp: last.timestamp)
    }

    private mutating func updateStreak(insertedAt position: Int, status: SyncStatus) {
        let last = events.count - 1
        if position == last {
            streak = status == .failed ? streak + 1 : 0
        } else if position >= last - streak {
            // Inserted inside the trailing run (out of order): count it again.
            streak = events.reversed().prefix { $0.status == .failed }.count
        }
        // Inserted before the run: the newest events, and so the streak, are unchanged.
    }

    /// Index of the first event whose timestamp is not less than `timestamp`.
    private func insertionIndex(for timestamp: Int64) -> Int {
        if let newest = events.last, newest.timestamp < timestamp {
            return events.count  // the common case: a device reports in order
        }
        var low = 0
        var high = events.count
        while low < high {
            let middle = (low + high) / 2
            if events[middle].timestamp < timestamp {
                low = middle + 1
            } else {
                high = middle
            }
        }
        return low
    }
}
