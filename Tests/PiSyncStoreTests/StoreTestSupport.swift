import PiSyncStore
import Synchronization

/// Shared fixtures of the store tests (no suite lives here).

/// The server clock every test records with (2023-11-14T22:13:20Z).
let testNow: Int64 = 1_700_000_000_000

/// A base timestamp comfortably inside the accepted window.
let t0: Int64 = testNow - 10_000_000

/// An event of `device` at `t0 + offset` whose counts derive `status`.
func event(_ device: String, _ status: SyncStatus, at offset: Int64, speed: Float = 12.5) -> SyncEvent {
    switch status {
    case .success:
        return SyncEvent(deviceID: device, timestamp: t0 + offset, filesSynced: 7, errors: 0, internetSpeed: speed)
    case .partial:
        return SyncEvent(deviceID: device, timestamp: t0 + offset, filesSynced: 3, errors: 2, internetSpeed: speed)
    case .failed:
        return SyncEvent(deviceID: device, timestamp: t0 + offset, filesSynced: 0, errors: 4, internetSpeed: speed)
    }
}

/// Collects the alerts a store hands to `onAlert`, in delivery order.
final class AlertCollector: Sendable {
    private let storage = Mutex<[FailureAlert]>([])

    var alerts: [FailureAlert] { storage.withLock { $0 } }

    func append(_ alert: FailureAlert) {
        storage.withLock { $0.append(alert) }
    }

    /// A store whose alerts land in this collector.
    func makeStore(threshold: Int = 3, shardCount: Int = 64) -> SyncStore {
        SyncStore(
            configuration: StoreConfiguration(alertThreshold: threshold, shardCount: shardCount),
            onAlert: { [self] alert in self.append(alert) })
    }
}

extension SyncStore {
    /// Records events one call at a time, as a device reporting live would.
    @discardableResult
    func recordEach(_ events: [SyncEvent]) -> [RecordOutcome] {
        events.map { record([$0], now: testNow) }
    }

    /// Every stored event of `device`, newest first (at most 100).
    func allHistory(of device: String) throws -> [SyncEvent] {
        try history(of: device, page: PageRequest(page: 1, limit: 100)).events
    }
}
