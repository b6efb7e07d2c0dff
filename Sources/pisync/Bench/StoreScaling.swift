import PiSyncStore

/// Measures the store alone: `tasks` concurrent writers, each recording `events` single-event
/// batches for its own devices, against a store with `shards` locks.
enum StoreScaling {
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
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return Double(tasks * events) / seconds
    }
}
