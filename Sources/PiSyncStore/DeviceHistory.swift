/// One device's stored syncs, ascending by timestamp, with the counters derived from them.
///
/// Every counter is maintained on insert so that reads never scan the history, and the syncs
/// are kept in blocks (``HistoryBlocks``) so that a late one costs no shift of the history.
struct DeviceHistory: Sendable {
    /// The device's syncs, ascending by timestamp; timestamps are unique.
    private var blocks = HistoryBlocks()
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
    /// An alert was raised and no recovery has followed it yet: the next sync that leaves no
    /// failure run (a success or partial newer than every failure) is a recovery. Kept apart
    /// from ``streakAlerted``, which a late success inside the run can clear.
    var recoveryOwed = false
    /// What the events moved to the archive contributed (`nil` until some are).
    private(set) var archived: ArchivedPart?

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
    /// they need, so a restored store takes no more memory than the one that was saved, on top
    /// of what its archived events contributed.
    init(restoring events: [StoredSync], streakAlerted: Bool, archived: ArchivedPart? = nil) {
        if let archived {
            failedCount = archived.failed
            lastFailure = archived.lastFailure
            lastSuccess = archived.lastSuccess
            streak = archived.failureRun
        }
        self.archived = archived
        for event in events {
            // Held events are stored whatever the horizon: one that arrived while its elders
            // were being archived can be older than it.
            _ = store(event)
        }
        self.streakAlerted = streakAlerted
        // A restored alerted run is owed its recovery. (A run whose flag a late success cleared
        // before the snapshot is not: the snapshot does not keep that.)
        self.recoveryOwed = streakAlerted
    }

    /// The number of syncs stored, archived ones included.
    var count: Int { blocks.count + (archived?.events ?? 0) }

    /// The number of syncs held in memory.
    var heldCount: Int { blocks.count }

    /// Every sync, ascending, in one array (a snapshot's copy; built outside the store's locks).
    var events: [StoredSync] { blocks.all }

    /// Makes room for `count` more events at once, so that a replay does not double the array.
    mutating func reserveCapacity(forAdding count: Int) {
        blocks.reserveCapacity(forAdding: count)
    }

    /// Reallocates the events at their exact size when more than an eighth is spare.
    mutating func trimCapacity() {
        blocks.trimCapacity()
    }

    /// Stores `event` in timestamp order unless its timestamp is taken or at or before the
    /// archive horizon (``ArchivedPart/newest``): such an event is taken as one already archived.
    mutating func insert(_ event: StoredSync) -> InsertOutcome {
        if let archived, event.timestamp <= archived.newest { return .duplicate }
        return store(event)
    }

    private mutating func store(_ event: StoredSync) -> InsertOutcome {
        // Whether it landed inside the trailing run of failures is all the streak needs.
        guard let newer = blocks.insert(event, countingNewerUpTo: streak + 1) else {
            return .duplicate
        }
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
        updateStreak(newer: newer, status: status)
        return .stored
    }

    /// Stores `event` as ``insert(_:)`` does and, when stored, takes the alert that became due
    /// (``takeDueAlert(threshold:deviceID:)``): one dictionary access for both.
    mutating func insert(_ event: StoredSync, alertThreshold: Int, deviceID: String) -> (InsertOutcome, FailureAlert?) {
        let outcome = insert(event)
        guard outcome == .stored else { return (outcome, nil) }
        return (outcome, takeDueAlert(threshold: alertThreshold, deviceID: deviceID))
    }

    /// Timestamp of the first event of the current streak (`nil` when there is none).
    var streakStart: Int64? {
        if streak == 0 { return nil }
        if streak > blocks.count { return archived?.failureRunStart }
        return blocks.event(fromNewest: streak - 1).timestamp
    }

    /// The events that retention moves out of memory: those older than `cutoff` and those
    /// beyond the newest `maxHeld`, oldest first, at most `limit`.
    func dueForArchive(olderThan cutoff: Int64?, maxHeld: Int?, limit: Int) -> [StoredSync] {
        var due = 0
        if let cutoff { due = blocks.count(olderThan: cutoff) }
        if let maxHeld { due = max(due, blocks.count - maxHeld) }
        return due > 0 ? blocks.oldest(min(due, limit)) : []
    }

    /// Takes `moved` (the oldest held events, ascending, now durable in the archive) out of
    /// memory; every counter keeps its value.
    mutating func archive(_ moved: [StoredSync]) {
        guard !moved.isEmpty else { return }
        blocks.remove(moved.map(\.timestamp))
        archived = ArchivedPart(folding: moved, into: archived)
    }

    /// The sync stored at `timestamp`, if there is one.
    func event(at timestamp: Int64) -> StoredSync? {
        blocks.event(at: timestamp)
    }

    /// The events of a newest-first page, in ascending order (reverse them to present).
    func newestFirst(_ page: PageRequest) -> [StoredSync] {
        guard page.offset < blocks.count else { return [] }
        return blocks.newest(skipping: page.offset, limit: page.limit)
    }

    /// Call after each stored event: describes the alert when the streak has just reached
    /// `threshold` and marks the streak alerted. A streak that has alerted stays alerted until
    /// it falls below the threshold (a success or partial newer than its failures), so one
    /// arriving late inside the run does not alert the same failures twice.
    /// When a sync newer than an alerted run ends it, describes the recovery instead.
    mutating func takeDueAlert(threshold: Int, deviceID: String) -> FailureAlert? {
        if streak < threshold {
            streakAlerted = false
            guard recoveryOwed, streak == 0, let newest = blocks.last, newest.status != .failed else { return nil }
            recoveryOwed = false
            return FailureAlert(
                sequence: 0, deviceID: deviceID, consecutiveFailures: 0, firstFailureTimestamp: 0,
                lastFailureTimestamp: lastFailure ?? 0,
                recovery: .init(timestamp: newest.timestamp, status: newest.status))
        }
        guard !streakAlerted, let first = streakStart, let last = blocks.last else {
            return nil
        }
        streakAlerted = true
        recoveryOwed = true
        return FailureAlert(
            sequence: 0, deviceID: deviceID, consecutiveFailures: streak, firstFailureTimestamp: first,
            lastFailureTimestamp: last.timestamp)
    }

    /// `newer`: how many stored events are newer than the one just inserted (capped past the
    /// streak's length).
    private mutating func updateStreak(newer: Int, status: SyncStatus) {
        if newer == 0 {
            streak = status == .failed ? streak + 1 : 0
        } else if newer <= streak {
            // Inserted inside the trailing run (out of order): count it again.
            streak = blocks.newestRun { $0.status == .failed }
            if streak == blocks.count { streak += archived?.failureRun ?? 0 }
        }
        // Inserted before the run: the newest events, and so the streak, are unchanged.
    }
}
