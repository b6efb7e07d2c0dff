/// The devices that have failed at least once, in ListFailures order: failed count, highest
/// first, then newest failure, then device id.
///
/// Devices are kept in one bucket per failed count, each sorted oldest failure first. A failure
/// moves a device from the end region of bucket `n` to the end of bucket `n + 1` (its failure
/// is the newest), so an update is a binary search and a short shift, not a move of the whole
/// index. A query walks the few distinct counts above its threshold and slices its page out of
/// them: it never looks at devices below the threshold or at any history.
struct FailureIndex: Sendable {
    private struct Entry: Sendable, Hashable {
        var lastFailure: Int64
        var deviceID: String

        /// Bucket order: oldest failure first; read backwards for ListFailures order.
        func precedes(_ other: Entry) -> Bool {
            lastFailure != other.lastFailure ? lastFailure < other.lastFailure : deviceID > other.deviceID
        }
    }

    private var buckets: [Int: [Entry]] = [:]
    /// The failed counts that have a bucket, highest first.
    private var counts: [Int] = []
    private var current: [String: (count: Int, entry: Entry)] = [:]

    /// Records that `deviceID` now has `failedCount` failures, the newest at `lastFailure`.
    mutating func update(deviceID: String, failedCount: Int, lastFailure: Int64) {
        let entry = Entry(lastFailure: lastFailure, deviceID: deviceID)
        if let old = current[deviceID] {
            if old.count == failedCount && old.entry == entry { return }
            remove(old.entry, from: old.count)
        }
        current[deviceID] = (failedCount, entry)
        if buckets[failedCount] == nil {
            counts.insert(failedCount, at: counts.firstIndex { $0 < failedCount } ?? counts.count)
        }
        var bucket = buckets.removeValue(forKey: failedCount) ?? []
        if let newest = bucket.last, !newest.precedes(entry) {
            bucket.insert(entry, at: bucket.partitionPoint { !$0.precedes(entry) })
        } else {
            bucket.append(entry)  // the common case: this is the newest failure
        }
        buckets[failedCount] = bucket
    }

    /// The number of devices with more than `threshold` failures.
    func count(above threshold: Int) -> Int {
        counts.prefix { $0 > threshold }.reduce(0) { $0 + (buckets[$1]?.count ?? 0) }
    }

    /// The device ids of devices with more than `threshold` failures, in ListFailures order,
    /// skipping `offset` and taking at most `limit`.
    func deviceIDs(above threshold: Int, offset: Int, limit: Int) -> [String] {
        var skip = offset
        var page: [String] = []
        for count in counts where count > threshold && page.count < limit {
            guard let bucket = buckets[count] else { continue }
            if skip >= bucket.count {
                skip -= bucket.count
                continue
            }
            let upper = bucket.count - skip
            let lower = max(0, upper - (limit - page.count))
            page += bucket[lower..<upper].reversed().map(\.deviceID)
            skip = 0
        }
        return page
    }

    private mutating func remove(_ entry: Entry, from count: Int) {
        guard var bucket = buckets.removeValue(forKey: count) else { return }
        let position = bucket.partitionPoint { !$0.precedes(entry) }
        if position < bucket.count, bucket[position] == entry {
            bucket.remove(at: position)
        }
        if bucket.isEmpty {
            counts.removeAll { $0 == count }
        } else {
            buckets[count] = bucket
        }
    }
}

extension Array {
    /// The first index where `isInSecondPart` holds; it must hold for every later element.
    fileprivate func partitionPoint(_ isInSecondPart: (Element) -> Bool) -> Int {
        var low = 0
        var high = count
        while low < high {
            let middle = (low + high) / 2
            if isInSecondPart(self[middle]) {
                high = middle
            } else {
                low = middle + 1
            }
        }
        return low
    }
}
