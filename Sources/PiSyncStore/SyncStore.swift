import Synchronization

/// PiSync's in-memory store: every device's history, its counters, the failure index and the
/// streak state.
///
/// Devices are spread over shards, each behind its own lock, so connections recording for
/// different devices rarely contend; a call never suspends. The failure index has one lock of
/// its own and is only taken (after a shard lock, never before) when a failure is stored.
/// Lock order: shards in increasing index (a batch spanning several holds them all until it is
/// journaled), then failure index or alert sequence. Alerts are numbered and journaled
/// under those locks but handed to `onAlert` after they are released (``AlertOutbox``), so a
/// subscriber's delivery never holds up another connection's recording.
public final class SyncStore: Sendable {
    /// The default ListFailures threshold: "more than 3 failed syncs".
    public static let defaultFailureThreshold = 3

    /// The store's settings.
    public let configuration: StoreConfiguration
    let shards: [Shard]
    private let failureIndex = Mutex(FailureIndex())
    /// The last alert sequence number and the alert history, numbered and journaled together.
    private let alerts: Mutex<AlertState>
    private let onAlert: @Sendable (FailureAlert) -> Void
    private let journal: (any SyncJournal)?
    let changes = Atomic<UInt64>(0)
    let archiveCycleNumber = Atomic<UInt64>(0)
    private let outbox = AlertOutbox()

    /// Creates an empty store. `onAlert` receives each alert, in sequence order, after `journal`
    /// (when there is one) has been handed the events that raised it. It is called with no
    /// store lock held, by one thread at a time, and before the `record` call that raised the
    /// alert returns (or by a concurrent `record` that was already delivering).
    public init(
        configuration: StoreConfiguration = StoreConfiguration(),
        lastAlertSequence: UInt64 = 0,
        journal: (any SyncJournal)? = nil,
        onAlert: @escaping @Sendable (FailureAlert) -> Void = { _ in }
    ) {
        self.configuration = configuration
        self.shards = (0..<configuration.shardCount).map { _ in Shard() }
        self.alerts = Mutex(AlertState(lastSequence: lastAlertSequence, history: AlertHistory(capacity: configuration.alertHistory)))
        self.journal = journal
        self.onAlert = onAlert
    }

    /// Validates and stores a batch. Each event is judged on its own; rejections carry the
    /// event's index in `events`. `now` is the server clock in Unix milliseconds.
    @discardableResult
    public func record(_ events: [SyncEvent], now: Int64) -> RecordOutcome {
        var outcome = RecordOutcome()
        var sharedDevice: String? = events.first?.deviceID
        for (index, event) in events.enumerated() {
            if let violation = configuration.validator.violation(in: event, now: now) {
                outcome.rejected.append(.init(index: index, violation: violation))
            }
            if sharedDevice != event.deviceID { sharedDevice = nil }
        }
        var valid = events  // shared, not copied, unless something was rejected
        if !outcome.rejected.isEmpty {
            var rejected = outcome.rejected.makeIterator()
            var nextRejected = rejected.next()?.index
            valid = []
            for (index, event) in events.enumerated() {
                if index == nextRejected {
                    nextRejected = rejected.next()?.index
                } else {
                    valid.append(event)
                }
            }
        }
        if let sharedDevice, !valid.isEmpty {
            // One device (every single-event request, and batches naming their device): one
            // shard, without grouping.
            outcome.merge(apply(valid, to: shard(of: sharedDevice)))
        } else {
            var byShard: [Int: [SyncEvent]] = [:]
            for event in valid {
                byShard[shardIndex(of: event.deviceID), default: []].append(event)
            }
            let groups = byShard.sorted { $0.key < $1.key }.map { (shard: $0.key, events: $0.value) }
            var applied = Applied()
            outcome.merge(apply(groups[...], applied: &applied))
        }
        if outcome.accepted > 0 {
            changes.add(UInt64(outcome.accepted), ordering: .relaxed)
        }
        if !outcome.alerts.isEmpty {
            outbox.drain(onAlert)
        }
        return outcome
    }

    /// Counts the events stored since the store was created; it moves whenever the state does,
    /// so a snapshot writer can skip writing when nothing changed.
    public var changeCount: UInt64 { changes.load(ordering: .relaxed) }

    /// One page of `deviceID`'s history, newest first.
    /// - Throws: ``FieldViolation`` `.notFound` when the device has never been seen.
    public func history(of deviceID: String, page: PageRequest) throws(FieldViolation) -> HistoryPage {
        let found = shard(of: deviceID).state.withLock { state -> HistoryPage? in
            guard let history = state.devices[deviceID] else { return nil }
            let events = history.newestFirst(page).reversed().map { $0.event(of: deviceID) }
            return HistoryPage(
                events: events, total: history.count, page: page, archived: history.archived?.events ?? 0,
                archivedThrough: history.archived?.newest)
        }
        guard let found else {
            throw FieldViolation(.notFound, field: "device_id", message: "no syncs recorded for device '\(deviceID)'")
        }
        return found
    }

    /// The event `deviceID` has stored at `timestamp` (the first one recorded there: a later
    /// duplicate changes nothing), or `nil` when there is none.
    public func event(of deviceID: String, at timestamp: Int64) -> SyncEvent? {
        shard(of: deviceID).state.withLock { state in
            state.devices[deviceID]?.event(at: timestamp)?.event(of: deviceID)
        }
    }

    /// One page of the devices with more than `threshold` failed syncs.
    public func failures(above threshold: Int, page: PageRequest) -> FailurePage {
        let (total, ids) = failureIndex.withLock { index in
            (index.count(above: threshold), index.deviceIDs(above: threshold, offset: page.offset, limit: page.limit))
        }
        let devices = ids.compactMap { summary(of: $0) }
        return FailurePage(devices: devices, total: total, page: page, threshold: threshold)
    }

    /// The failure record of one device, or `nil` when it has never been seen.
    public func summary(of deviceID: String) -> DeviceFailureSummary? {
        shard(of: deviceID).state.withLock { state in
            guard let history = state.devices[deviceID] else { return nil }
            return DeviceFailureSummary(
                deviceID: deviceID, failedSyncs: history.failedCount, totalSyncs: history.count,
                consecutiveFailures: history.streak, lastFailureTimestamp: history.lastFailure ?? 0,
                lastSuccessTimestamp: history.lastSuccess)
        }
    }

    /// What storing part of a batch did, before it is journaled.
    private struct Applied {
        var outcome = RecordOutcome()
        /// The events newly stored, in the order they were applied.
        var stored: [SyncEvent] = []
        /// Alerts that became due, not numbered yet.
        var due: [FailureAlert] = []
    }

    /// Stores already-validated events of one shard, updates the failure index, hands the
    /// newly stored events to the journal and publishes the alerts that became due.
    ///
    /// All of it happens under the shard lock, so the journal sees a device's events in the
    /// order they were applied. Alerts are numbered, journaled and published under the alert
    /// sequence lock too, so subscribers see increasing numbers and each journal record knows
    /// the highest number its events raised.
    private func apply(_ batch: [SyncEvent], to shard: Shard) -> RecordOutcome {
        shard.state.withLock { state in
            var applied = Applied()
            insert(batch, into: &state, applied: &applied)
            return journal(applied)
        }
    }

    /// Stores the groups of a batch that spans several shards, holding every shard's lock, taken
    /// in increasing shard order (so two such calls never deadlock), until the whole batch is
    /// journaled as one record: one append instead of one per shard, and the journal still
    /// sees each device's events in the order they were applied.
    private func apply(_ groups: ArraySlice<(shard: Int, events: [SyncEvent])>, applied: inout Applied) -> RecordOutcome {
        guard let group = groups.first else { return journal(applied) }
        return shards[group.shard].state.withLock { state in
            insert(group.events, into: &state, applied: &applied)
            return apply(groups.dropFirst(), applied: &applied)
        }
    }

    /// Inserts `batch` into one shard's devices and updates the failure index; the caller holds
    /// the shard's lock.
    private func insert(_ batch: [SyncEvent], into state: inout ShardState, applied: inout Applied) {
        let threshold = configuration.alertThreshold
        var failedDevices: Set<String> = []
        // The common case, one batch and no duplicate, journals `batch` itself.
        var sharing = applied.stored.isEmpty
        for (index, event) in batch.enumerated() {
            let (inserted, alert) = state.devices[event.deviceID, default: DeviceHistory()].insert(
                StoredSync(event), alertThreshold: threshold, deviceID: event.deviceID)
            guard inserted == .stored else {
                if sharing {
                    applied.stored = Array(batch[..<index])
                    sharing = false
                }
                applied.outcome.duplicates += 1
                continue
            }
            applied.outcome.accepted += 1
            if !sharing { applied.stored.append(event) }
            if event.status == .failed {
                failedDevices.insert(event.deviceID)
            }
            if let alert {
                applied.due.append(alert)
            }
        }
        if sharing { applied.stored = batch }
        indexFailures(of: failedDevices, in: state)
    }

    /// Journals what was stored and publishes its alerts; the caller holds the shard locks.
    private func journal(_ applied: Applied) -> RecordOutcome {
        var outcome = applied.outcome
        guard !applied.stored.isEmpty else { return outcome }
        if applied.due.isEmpty {
            journal?.append(applied.stored, alerts: [])
        } else {
            outcome.alerts = publish(applied.due, journaling: applied.stored)
        }
        return outcome
    }

    func indexFailures(of deviceIDs: Set<String>, in state: borrowing ShardState) {
        guard !deviceIDs.isEmpty else { return }
        failureIndex.withLock { index in
            for deviceID in deviceIDs {
                guard let history = state.devices[deviceID], let last = history.lastFailure else { continue }
                index.update(deviceID: deviceID, failedCount: history.failedCount, lastFailure: last)
            }
        }
    }

    /// Numbers `alerts`, journals the events that raised them with the last number, and queues
    /// them for `onAlert`, under one lock, so that subscribers see sequence numbers in
    /// increasing order and only after the journal holds their cause.
    private func publish(_ alerts: [FailureAlert], journaling events: [SyncEvent]) -> [FailureAlert] {
        self.alerts.withLock { state in
            let numbered = alerts.map { alert in
                state.lastSequence += 1
                var numbered = alert
                numbered.sequence = state.lastSequence
                return numbered
            }
            journal?.append(events, alerts: numbered)
            state.history.append(contentsOf: numbered)
            outbox.enqueue(numbered)
            return numbered
        }
    }

    /// Puts a restored device in place (used while loading a snapshot).
    public func restore(_ record: DeviceRecord) {
        let history = DeviceHistory(
            restoring: record.events, streakAlerted: record.streakAlerted, archived: record.archived)
        shard(of: record.deviceID).state.withLock { state in
            state.devices[record.deviceID] = history
            indexFailures(of: [record.deviceID], in: state)
        }
    }

    /// Applies events read back from the journal, grouped by device (each device's events in
    /// the order they were first applied): as `record` would, but with no validation (they were
    /// valid when first stored), without journaling them again and without publishing alerts;
    /// the alert sequence is raised to `lastAlertSequence` if lower. `streakAlerted` of the
    /// groups is ignored. Events already held (a snapshot covered them) are duplicates.
    /// - Returns: the events newly stored.
    @discardableResult
    public func replay(_ devices: [DeviceRecord], lastAlertSequence alertSequence: UInt64) -> Int {
        let threshold = configuration.alertThreshold
        var accepted = 0
        for device in devices {
            accepted += shard(of: device.deviceID).state.withLock { state in
                var history = state.devices.removeValue(forKey: device.deviceID) ?? DeviceHistory()
                history.reserveCapacity(forAdding: device.events.count)
                var stored = 0
                for event in device.events where history.insert(event) == .stored {
                    stored += 1
                    _ = history.takeDueAlert(threshold: threshold, deviceID: device.deviceID)
                }
                state.devices[device.deviceID] = history
                if stored > 0, device.events.contains(where: { $0.status == .failed }) {
                    indexFailures(of: [device.deviceID], in: state)
                }
                return stored
            }
        }
        if accepted > 0 {
            changes.add(UInt64(accepted), ordering: .relaxed)
        }
        raiseAlertSequence(to: alertSequence)
        return accepted
    }

    /// Gives back the spare capacity of every device's history (after a restore and replay,
    /// whose appends leave arrays up to twice their size).
    public func trimCapacity() {
        for shard in shards {
            shard.state.withLock { state in
                var index = state.devices.values.startIndex
                while index != state.devices.values.endIndex {
                    state.devices.values[index].trimCapacity()
                    state.devices.values.formIndex(after: &index)
                }
            }
        }
    }

    /// Raises the last alert sequence number to `sequence` when it is lower (restore, replay).
    public func raiseAlertSequence(to sequence: UInt64) {
        alerts.withLock { $0.lastSequence = max($0.lastSequence, sequence) }
    }

    /// Puts alerts read back from a snapshot or the log into the alert history (those it holds
    /// already are skipped) and raises the last sequence number to theirs.
    public func restoreAlerts(_ restored: [FailureAlert]) {
        guard let last = restored.last else { return }
        alerts.withLock { state in
            state.history.append(contentsOf: restored)
            state.lastSequence = max(state.lastSequence, last.sequence)
        }
    }

    /// The last alert sequence number and the alert history, oldest first, read together.
    public var alertHistory: (lastSequence: UInt64, alerts: [FailureAlert]) {
        alerts.withLock { ($0.lastSequence, $0.history.alerts) }
    }

    /// Independent shards the devices are spread over.
    public var shardCount: Int { shards.count }

    /// Copies the devices of one shard under its lock, each consistent (copy-on-write makes
    /// this cheap; recording goes on meanwhile).
    public func devices(inShard index: Int) -> [DeviceRecord] {
        let devices = shards[index].state.withLock { $0.devices }
        return devices.map {
            DeviceRecord(
                deviceID: $0.key, events: $0.value.events, streakAlerted: $0.value.streakAlerted,
                archived: $0.value.archived)
        }
    }

    /// The devices and events held in memory, counted shard by shard under each shard's lock
    /// (for the admin port's gauges: O(devices), not for a request path).
    public var storedCounts: (devices: Int, events: Int) {
        var devices = 0
        var events = 0
        for shard in shards {
            shard.state.withLock { state in
                devices += state.devices.count
                for history in state.devices.values { events += history.heldCount }  // in memory, not archived
            }
        }
        return (devices, events)
    }

    /// The sequence number of the last alert published.
    public var currentAlertSequence: UInt64 { alerts.withLock { $0.lastSequence } }

    func shard(of deviceID: String) -> Shard {
        shards[shardIndex(of: deviceID)]
    }

    private func shardIndex(of deviceID: String) -> Int {
        // FNV-1a: stable across runs, cheap for short ids.
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in deviceID.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return Int(hash % UInt64(shards.count))
    }
}

/// The devices of one shard.
struct ShardState: Sendable {
    var devices: [String: DeviceHistory] = [:]
}

/// One lock and the devices behind it.
final class Shard: Sendable {
    let state = Mutex(ShardState())
}

/// The store's alert numbering: the last number given and the history of what it was given to.
private struct AlertState {
    var lastSequence: UInt64
    var history: AlertHistory
}
