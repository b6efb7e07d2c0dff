import PiSyncStore
import Synchronization

/// Fixtures shared by the store and persistence tests (no suite lives here).

/// The server clock every test records with (2023-11-14T22:13:20Z).
public let testNow: Int64 = 1_700_000_000_000

/// A base timestamp comfortably inside the accepted window.
public let t0: Int64 = testNow - 10_000_000

/// An event of `device` at `t0 + offset` whose counts derive `status`.
public func event(_ device: String, _ status: SyncStatus, at offset: Int64, speed: Float = 12.5) -> SyncEvent {
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
public final class AlertCollector: Sendable {
    private let storage = Mutex<[FailureAlert]>([])

    public init() {}

    /// The alerts so far.
    public var alerts: [FailureAlert] { storage.withLock { $0 } }

    /// Adds one.
    public func append(_ alert: FailureAlert) {
        storage.withLock { $0.append(alert) }
    }

    /// A store whose alerts land in this collector.
    public func makeStore(threshold: Int = 3, shardCount: Int = 64, journal: (any SyncJournal)? = nil) -> SyncStore {
        SyncStore(
            configuration: StoreConfiguration(alertThreshold: threshold, shardCount: shardCount), journal: journal,
            onAlert: { [self] alert in self.append(alert) })
    }
}

extension SyncStore {
    /// Records events one call at a time, as a device reporting live would.
    @discardableResult
    public func recordEach(_ events: [SyncEvent]) -> [RecordOutcome] {
        events.map { record([$0], now: testNow) }
    }

    /// Every stored event of `device`, newest first (at most 100).
    public func allHistory(of device: String) throws -> [SyncEvent] {
        try history(of: device, page: PageRequest(page: 1, limit: 100)).events
    }
}
