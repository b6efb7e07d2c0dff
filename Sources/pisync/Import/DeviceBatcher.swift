/// Groups rows by device into batches of up to `batchSize`, holding at most `maxPending` rows
/// in all: an export in time order interleaves every device, and a fleet of many devices must
/// not make the import hold the whole file.
struct DeviceBatcher {
    let batchSize: Int
    let maxPending: Int
    private var pending: [String: [ImportRow]] = [:]
    private var pendingCount = 0

    init(batchSize: Int, maxPending: Int) {
        self.batchSize = max(1, batchSize)
        self.maxPending = max(self.batchSize, maxPending)
    }

    /// Adds `row` of `deviceID`; returns the batches that are ready: the device's, when full,
    /// or every device's, when the rows held reach `maxPending`.
    mutating func add(_ row: ImportRow, deviceID: String) -> [DeviceBatch] {
        pending[deviceID, default: []].append(row)
        pendingCount += 1
        if let rows = pending[deviceID], rows.count >= batchSize {
            pending[deviceID] = nil
            pendingCount -= rows.count
            return [DeviceBatch(deviceID: deviceID, rows: rows)]
        }
        return pendingCount >= maxPending ? drain() : []
    }

    /// Every partial batch, emptying the batcher (at the end of the file).
    mutating func drain() -> [DeviceBatch] {
        defer {
            pending = [:]
            pendingCount = 0
        }
        return pending.sorted { $0.key < $1.key }.map { DeviceBatch(deviceID: $0.key, rows: $0.value) }
    }
}
