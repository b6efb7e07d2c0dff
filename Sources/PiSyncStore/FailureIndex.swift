/// The devices that have failed at least once, kept in ListFailures order: failed count,
/// highest first, then newest failure, then device id.
///
/// Devices over any threshold form a prefix of this order, so a query finds its page with a
/// binary search and never looks at devices below the threshold or at the histories.
/// An update moves one entry within a sorted array: O(log n) to find, a memmove to shift.
struct FailureIndex: Sendable {
    struct Entry: Sendable, Hashable {
        var failedCount: Int
        var lastFailure: Int64
        var deviceID: String

        /// Whether `self` comes before `other` in ListFailures order.
        func precedes(_ other: Entry) -> Bool {
            if failedCount != other.failedCount { return failedCount > other.failedCount }
            if lastFailure != other.lastFailure { return lastFailure > other.lastFailure }
            return deviceID < other.deviceID
        }
    }

    private(set) var entries: [Entry] = []
    private var current: [String: Entry] = [:]

    /// Records that `deviceID` now has `failedCount` failures, the newest at `lastFailure`.
    mutating func update(deviceID: String, failedCount: Int, lastFailure: Int64) {
        let entry = Entry(failedCount: failedCount, lastFailure: lastFailure, deviceID: deviceID)
        if let old = current[deviceID] {
            if old == entry { return }
            entries.remove(at: position(of: old))
        }
        current[deviceID] = entry
        entries.insert(entry, at: position(of: entry))
    }

    /// The number of devices with more than `threshold` failures.
    func count(above threshold: Int) -> Int {
        // First entry whose failed count is <= threshold.
        partitionPoint { $0.failedCount <= threshold }
    }

    private func position(of entry: Entry) -> Int {
        partitionPoint { !$0.precedes(entry) }
    }

    /// The first index where `isInSecondPart` holds; the order guarantees it holds for all after.
    private func partitionPoint(_ isInSecondPart: (Entry) -> Bool) -> Int {
        var low = 0
        var high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if isInSecondPart(entries[middle]) {
                high = middle
            } else {
                low = middle + 1
            }
        }
        return low
    }
}
