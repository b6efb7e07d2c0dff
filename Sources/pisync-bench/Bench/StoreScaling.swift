import PiSyncStore

/// Measures the store alone, without the network.
enum StoreScaling {
    /// `tasks` concurrent writers, each recording `events` single-event batches for its own
    /// devices, against a store with `shards` locks.
    static func eventsPerSecond(shards: Int, tasks: Int, events: Int) async -> Double {
        let store = SyncStore(configuration: StoreConfiguration(shardCount: shards))
        let base: Int64 = 1_700_000_000_000
        let now = base + 1_000_000_000
        let start = ContinuousClock.now
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<tasks {
                group.addTask {
                    for index in 0..<events {
                        let event = SyncEvent(
                            deviceID: "bench-\(task)-\(index % 256)", timestamp: base + Int64(index),
                            filesSynced: 1, errors: index % 7 == 0 ? 1 : 0, internetSpeed: 5)
                        store.record([event], now: now)
                    }
                }
            }
        }
        return Double(tasks * events) / (ContinuousClock.now - start).inSeconds
    }

    /// One writer recording the first failure of each of `devices` devices, one event per
    /// RecordSync; the failures' timestamps rise when `inOrder`, else come in a shuffled order
    /// (a fleet's backlogs arriving late), which places most of them inside the failure index.
    static func failuresPerSecond(devices: Int, inOrder: Bool) -> Double {
        let store = SyncStore(configuration: StoreConfiguration())
        let base: Int64 = 1_700_000_000_000
        var offsets = Array(0..<devices)
        if !inOrder { offsets.shuffle() }
        let events = offsets.enumerated().map { index, offset in
            SyncEvent(deviceID: "fleet-\(index)", timestamp: base + Int64(offset), filesSynced: 0, errors: 1, internetSpeed: 1)
        }
        let start = ContinuousClock.now
        for event in events {
            store.record([event], now: base + 1_000_000_000)
        }
        return Double(devices) / (ContinuousClock.now - start).inSeconds
    }
}
