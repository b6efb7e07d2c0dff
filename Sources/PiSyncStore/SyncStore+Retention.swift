extension SyncStore {
    /// The events `policy` moves out of memory at `now` (server clock, Unix ms), by device,
    /// oldest first, at most `limit` in all (the rest waits for the next pass). Each shard is
    /// read under its lock; nothing changes.
    public func dueForArchive(_ policy: RetentionPolicy, now: Int64, limit: Int = 1_000_000) -> [DeviceRecord] {
        guard policy.isEnabled else { return [] }
        let cutoff = policy.maxAge.map { now - $0 }
        var due: [DeviceRecord] = []
        var left = limit
        for shard in shards where left > 0 {
            shard.state.withLock { state in
                for (deviceID, history) in state.devices where left > 0 {
                    let events = history.dueForArchive(olderThan: cutoff, maxHeld: policy.maxEventsPerDevice, limit: left)
                    guard !events.isEmpty else { continue }
                    left -= events.count
                    due.append(DeviceRecord(deviceID: deviceID, events: events, streakAlerted: false))
                }
            }
        }
        return due
    }

    /// Takes `moved` (from ``dueForArchive(_:now:limit:)``, now durable in the archive) out
    /// of memory and numbers the pass `cycle`. Counters, streaks and failure totals keep their
    /// values; GetHistory's total still counts the events.
    public func archive(_ moved: [DeviceRecord], cycle: UInt64) {
        for device in moved {
            shard(of: device.deviceID).state.withLock { state in
                state.devices[device.deviceID]?.archive(device.events)
            }
        }
        archiveCycleNumber.store(cycle, ordering: .sequentiallyConsistent)
    }

    /// The number of the last archive pass whose events left memory (a snapshot records it; the
    /// archive rolls back a pass newer than the snapshot it recovers with).
    public var archiveCycle: UInt64 { archiveCycleNumber.load(ordering: .sequentiallyConsistent) }

    /// Sets the archive pass number (restoring a snapshot).
    public func restoreArchiveCycle(_ cycle: UInt64) {
        archiveCycleNumber.store(cycle, ordering: .sequentiallyConsistent)
    }

    /// Events held in memory, every device's: what retention bounds.
    public var heldEventCount: Int {
        shards.reduce(0) { total, shard in
            total + shard.state.withLock { $0.devices.values.reduce(0) { $0 + $1.heldCount } }
        }
    }
}
