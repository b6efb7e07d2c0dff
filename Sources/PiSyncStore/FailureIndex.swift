/// The devices that have failed at least once, in ListFailures order: failed count, highest
/// first, then newest failure, then device id.
///
/// Devices are kept in one bucket per failed count, each a `SortedBlocks` ordered oldest
/// failure first. A failure moves a device from bucket `n` to bucket `n + 1`; each move is a
/// binary search and a shift inside one bounded block, wherever the failure's timestamp falls
/// (a late backlog lands in the middle of a bucket that may hold most of the fleet). A query
/// walks the few distinct counts above its threshold and slices its page out of them: it
/// never looks at devices below the threshold or at any history.
struct FailureIndex: Sendable {
    private struct Entry: Sendable, Hashable, Comparable {
        var lastFailure: Int64
        var deviceID: String

        /// Bucket order: oldest failure first, so that ListFailures order is read backwards.
        static func < (lhs: Entry, rhs: Entry) -> Bool {
            lhs.lastFailure != rhs.lastFailure ? lhs.lastFailure < rhs.lastFailure : lhs.deviceID > rhs.deviceID
        }
    }

    private var buckets: [Int: SortedBlocks<Entry>] = [:]
    /// The failed counts that have a bucket, highest first.
    private var counts: [Int] = []
    private var current: [String: (count: Int, entry: Entry)] = [:]
    private let maxBlockSize: Int

    /// Creates an empty index; `maxBlockSize` bounds the blocks of each bucket (tests make it
    /// small to exercise splits).
    init(maxBlockSize: Int = 512) {
        self.maxBlockSize = maxBlockSize
    }

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
        // Taken out of the dictionary while it changes, so that it is not copied.
        var bucket = buckets.removeValue(forKey: failedCount) ?? SortedBlocks(maxBlockSize: maxBlockSize)
        bucket.insert(entry)
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
            page += bucket.largestFirst(skip: skip, limit: limit - page.count).map(\.deviceID)
            skip = 0
        }
        return page
    }

    private mutating func remove(_ entry: Entry, from count: Int) {
        guard var bucket = buckets.removeValue(forKey: count) else { return }
        bucket.remove(entry)
        if bucket.isEmpty {
            counts.removeAll { $0 == count }
        } else {
            buckets[count] = bucket
        }
    }
}
