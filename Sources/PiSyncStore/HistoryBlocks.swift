/// A device's syncs in ascending timestamp order, kept as blocks of at most
/// ``maxBlockSize`` events.
///
/// An event that arrives late (older than the newest) costs a binary search and a shift inside
/// one block, not a shift of every newer event: a backlog of late events into a long history
/// stays linear. Appending the newest event, the common case, appends to the last block, and
/// reads of the newest pages touch only the last blocks.
struct HistoryBlocks: Sendable {
    /// The most events one block holds; a fuller block is split in two.
    static let maxBlockSize = 1024

    /// Non-empty blocks, each ascending, and ascending across blocks.
    private(set) var blocks: [[StoredSync]] = []
    /// The number of events.
    private(set) var count = 0

    /// The newest event.
    var last: StoredSync? { blocks.last?.last }

    /// Inserts `event` unless its timestamp is taken. Returns `nil` for a duplicate, else how
    /// many events are newer than it, counted up to `cap` (a caller that only needs to know
    /// whether it landed among the newest few passes a small cap).
    mutating func insert(_ event: StoredSync, countingNewerUpTo cap: Int) -> Int? {
        guard let lastTimestamp = blocks.last?.last?.timestamp else {
            blocks.append([event])
            count = 1
            return 0
        }
        if lastTimestamp < event.timestamp {
            if blocks[blocks.count - 1].count < Self.maxBlockSize {
                blocks[blocks.count - 1].append(event)
            } else {
                blocks.append([event])
            }
            count += 1
            return 0
        }
        // The first block whose newest event is not older than `event` (there is one: the last).
        let blockIndex = blocks.partitionPoint { $0[$0.count - 1].timestamp >= event.timestamp }
        let position = blocks[blockIndex].partitionPoint { $0.timestamp >= event.timestamp }
        if blocks[blockIndex][position].timestamp == event.timestamp { return nil }
        blocks[blockIndex].insert(event, at: position)
        count += 1
        var newer = blocks[blockIndex].count - position - 1
        var next = blockIndex + 1
        while newer <= cap, next < blocks.count {
            newer += blocks[next].count
            next += 1
        }
        if blocks[blockIndex].count > Self.maxBlockSize {
            let half = blocks[blockIndex].count / 2
            let upper = Array(blocks[blockIndex][half...])
            blocks[blockIndex].removeSubrange(half...)
            blocks.insert(upper, at: blockIndex + 1)
        }
        return min(newer, cap)
    }

    /// Up to `limit` events, ascending, after skipping the `offset` newest.
    func newest(skipping offset: Int, limit: Int) -> [StoredSync] {
        var result: [StoredSync] = []
        var toSkip = offset
        var wanted = limit
        for block in blocks.reversed() where wanted > 0 {
            if toSkip >= block.count {
                toSkip -= block.count
                continue
            }
            let upper = block.count - toSkip
            let lower = max(0, upper - wanted)
            result.insert(contentsOf: block[lower..<upper], at: 0)
            wanted -= upper - lower
            toSkip = 0
        }
        return result
    }

    /// The event stored at `timestamp`, if there is one.
    func event(at timestamp: Int64) -> StoredSync? {
        let blockIndex = blocks.partitionPoint { $0[$0.count - 1].timestamp >= timestamp }
        guard blockIndex < blocks.count else { return nil }
        let block = blocks[blockIndex]
        let position = block.partitionPoint { $0.timestamp >= timestamp }
        return position < block.count && block[position].timestamp == timestamp ? block[position] : nil
    }

    /// The event `distance` places from the newest (0 is the newest).
    func event(fromNewest distance: Int) -> StoredSync {
        var remaining = distance
        for block in blocks.reversed() {
            if remaining < block.count { return block[block.count - 1 - remaining] }
            remaining -= block.count
        }
        preconditionFailure("event \(distance) from the newest of \(count)")
    }

    /// How many of the newest events, in a row, satisfy `predicate`.
    func newestRun(where predicate: (StoredSync) -> Bool) -> Int {
        var run = 0
        for block in blocks.reversed() {
            for event in block.reversed() {
                guard predicate(event) else { return run }
                run += 1
            }
        }
        return run
    }

    /// How many events are older than `cutoff`.
    func count(olderThan cutoff: Int64) -> Int {
        let blockIndex = blocks.partitionPoint { $0[$0.count - 1].timestamp >= cutoff }
        guard blockIndex < blocks.count else { return count }
        let before = blocks[..<blockIndex].reduce(0) { $0 + $1.count }
        return before + blocks[blockIndex].partitionPoint { $0.timestamp >= cutoff }
    }

    /// The `limit` oldest events, ascending.
    func oldest(_ limit: Int) -> [StoredSync] {
        var result: [StoredSync] = []
        result.reserveCapacity(min(limit, count))
        for block in blocks where result.count < limit {
            result += block.prefix(limit - result.count)
        }
        return result
    }

    /// Removes the events whose timestamps are in `timestamps` (ascending). The usual case,
    /// the oldest events exactly, drops whole blocks and cuts one; otherwise (a late event
    /// arrived among them) the older events are filtered one by one.
    mutating func remove(_ timestamps: [Int64]) {
        guard let newest = timestamps.last else { return }
        if oldest(timestamps.count).map(\.timestamp) == timestamps {
            var left = timestamps.count
            while left > 0, let first = blocks.first {
                if first.count <= left {
                    left -= first.count
                    blocks.removeFirst()
                } else {
                    blocks[0].removeFirst(left)
                    left = 0
                }
            }
            count -= timestamps.count
            return
        }
        let doomed = Set(timestamps)
        var kept: [StoredSync] = []
        var index = 0
        while index < blocks.count, blocks[index][0].timestamp <= newest {
            kept += blocks[index].filter { !doomed.contains($0.timestamp) }
            index += 1
        }
        let rest = blocks[index...]
        blocks = stride(from: 0, to: kept.count, by: Self.maxBlockSize).map {
            Array(kept[$0..<min(kept.count, $0 + Self.maxBlockSize)])
        } + rest
        count = blocks.reduce(0) { $0 + $1.count }
    }

    /// Every event, ascending, in one array.
    var all: [StoredSync] {
        guard blocks.count > 1 else { return blocks.first ?? [] }
        var result: [StoredSync] = []
        result.reserveCapacity(count)
        for block in blocks { result += block }
        return result
    }

    /// Makes room in the last block for up to `count` more events (a replay of appends).
    mutating func reserveCapacity(forAdding added: Int) {
        guard !blocks.isEmpty else { return }
        let last = blocks.count - 1
        blocks[last].reserveCapacity(min(Self.maxBlockSize, blocks[last].count + added))
    }

    /// Reallocates blocks at their exact size when more than an eighth of one is spare.
    mutating func trimCapacity() {
        for index in blocks.indices where blocks[index].capacity - blocks[index].count > blocks[index].count / 8 {
            let block = blocks[index]
            blocks[index] = [StoredSync](unsafeUninitializedCapacity: block.count) { buffer, initialized in
                _ = buffer.initialize(from: block)
                initialized = block.count
            }
        }
    }
}
