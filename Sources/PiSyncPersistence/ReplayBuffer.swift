import PiSyncStore

/// Gathers replayed log records by device before applying them, so that each device's history
/// is touched once per batch instead of once per record: a fleet's log interleaves devices, and
/// touching a cold history per event made replay cost a cache miss per event.
///
/// Per-device order is kept, and devices are independent in the store, so the result is the
/// same as applying record by record.
struct ReplayBuffer {
    private let store: SyncStore
    private let limit: Int
    private var devices: [String: Int] = [:]
    private var records: [DeviceRecord] = []
    private var events = 0
    private var lastAlertSequence: UInt64 = 0
    private var alerts: [FailureAlert] = []

    /// Applies to `store` whenever `limit` events are gathered (bounding the memory it takes).
    init(store: SyncStore, limit: Int = 2_000_000) {
        self.store = store
        self.limit = limit
    }

    mutating func add(_ record: DecodedLogRecord) {
        for device in record.devices {
            if let index = devices[device.deviceID] {
                records[index].events += device.events
            } else {
                devices[device.deviceID] = records.count
                records.append(device)
            }
            events += device.events.count
        }
        lastAlertSequence = max(lastAlertSequence, record.lastAlertSequence)
        alerts += record.alerts
        if events >= limit { flush() }
    }

    mutating func flush() {
        store.replay(records, lastAlertSequence: lastAlertSequence)
        store.restoreAlerts(alerts)
        alerts = []
        devices = [:]
        records = []
        events = 0
    }
}
