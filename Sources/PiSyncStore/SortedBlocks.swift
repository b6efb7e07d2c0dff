/// A sorted multiset kept as a list of sorted blocks of bounded size.
///
/// Inserting or removing anywhere costs a binary search over the blocks, one inside a block,
/// and a shift of at most `maxBlockSize` elements, instead of the shift of everything after the
/// position that one sorted array costs. Appending the largest element, the common case, is
/// an append to the last block.
struct SortedBlocks<Element: Comparable & Sendable>: Sendable {
    /// Non-empty, each sorted, and sorted across: every element of a block is `<=` every
    /// element of the next.
    private var blocks: [[Element]] = []
    private let maxBlockSize: Int

    /// The number of elements.
    private(set) var count = 0

    /// Creates an empty set whose blocks split when they grow past `maxBlockSize` (at least 2).
    init(maxBlockSize: Int = 512) {
        self.maxBlockSize = max(2, maxBlockSize)
    }

    var isEmpty: Bool { count == 0 }

    /// Inserts `element` after any equal elements.
    mutating func insert(_ element: Element) {
        count += 1
        guard let lastBlock = blocks.indices.last else {
            blocks.append([element])
            return
        }
        // The first block whose last element is greater; the last block if none is.
        let index = blocks.partitionPoint { element < $0[$0.count - 1] }
        let target = min(index, lastBlock)
        if index > lastBlock {
            blocks[target].append(element)
        } else {
            blocks[target].insert(element, at: blocks[target].partitionPoint { element < $0 })
        }
        if blocks[target].count > maxBlockSize {
            let upper = Array(blocks[target][(maxBlockSize / 2)...])
            blocks[target].removeSubrange((maxBlockSize / 2)...)
            blocks.insert(upper, at: target + 1)
        }
    }

    /// Removes one element equal to `element`; returns whether there was one.
    @discardableResult
    mutating func remove(_ element: Element) -> Bool {
        // The first block whose last element is not less than `element` holds the first
        // equal element, if there is one.
        let index = blocks.partitionPoint { !($0[$0.count - 1] < element) }
        guard index < blocks.count else { return false }
        let position = blocks[index].partitionPoint { !($0 < element) }
        guard position < blocks[index].count, blocks[index][position] == element else { return false }
        blocks[index].remove(at: position)
        if blocks[index].isEmpty {
            blocks.remove(at: index)
        }
        count -= 1
        return true
    }

    /// Up to `limit` elements, largest first, after skipping the `skip` largest.
    func largestFirst(skip: Int, limit: Int) -> [Element] {
        var toSkip = skip
        var result: [Element] = []
        for block in blocks.reversed() where result.count < limit {
            if toSkip >= block.count {
                toSkip -= block.count
                continue
            }
            let upper = block.count - toSkip
            let lower = max(0, upper - (limit - result.count))
            result += block[lower..<upper].reversed()
            toSkip = 0
        }
        return result
    }

    /// Every element, in ascending order.
    var elements: [Element] { blocks.flatMap { $0 } }
}
