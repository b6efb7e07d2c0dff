import PiSyncTestSupport
@testable import PiSyncStore
import Testing

/// The failure index against a plain sort of the same devices, under random updates.
@Suite("Failure index")
struct FailureIndexTests {
    /// A device's failed count and newest failure, as the index was told.
    struct Model {
        var devices: [String: (count: Int, last: Int64)] = [:]

        /// ListFailures order: failed count, highest first; newest failure; device id.
        func ordered(above threshold: Int) -> [String] {
            devices.filter { $0.value.count > threshold }
                .sorted { lhs, rhs in
                    if lhs.value.count != rhs.value.count { return lhs.value.count > rhs.value.count }
                    if lhs.value.last != rhs.value.last { return lhs.value.last > rhs.value.last }
                    return lhs.key < rhs.key
                }
                .map(\.key)
        }
    }

    @Test("random updates, late timestamps and ties included, keep ListFailures order", arguments: [2, 3, 512])
    func matchesSortedModel(maxBlockSize: Int) {
        var index = FailureIndex(maxBlockSize: maxBlockSize)
        var model = Model()
        for step in 0..<3000 {
            // Devices and timestamps scattered by multiplying with primes: reproducible.
            let device = "dev-\(step * 7919 % 300)"
            let count = (model.devices[device]?.count ?? 0) + 1
            // Newest failures mostly, late ones and equal timestamps often.
            let last = Int64(step * 104_729 % (step / 4 + 10))
            index.update(deviceID: device, failedCount: count, lastFailure: last)
            model.devices[device] = (count, last)
            if step % 250 == 0 {
                for threshold in [0, 3, 8] {
                    let expected = model.ordered(above: threshold)
                    #expect(index.count(above: threshold) == expected.count)
                    #expect(index.deviceIDs(above: threshold, offset: 0, limit: .max) == expected)
                    for (offset, limit) in [(0, 10), (7, 13), (expected.count - 1, 5), (expected.count, 10)] where offset >= 0 {
                        #expect(index.deviceIDs(above: threshold, offset: offset, limit: limit)
                                == Array(expected.dropFirst(offset).prefix(limit)))
                    }
                }
            }
        }
    }

    @Test("blocks split and empty out, and stay sorted across")
    func sortedBlocks() {
        var blocks = SortedBlocks<Int>(maxBlockSize: 4)
        var model: [Int] = []
        for step in 0..<500 {
            let value = step * 37 % 60
            if step * 13 % 5 < 3 || model.isEmpty {
                blocks.insert(value)
                model.append(value)
            } else {
                let removed = blocks.remove(value)
                #expect(removed == model.contains(value))
                if let position = model.firstIndex(of: value) { model.remove(at: position) }
            }
            #expect(blocks.elements == model.sorted())
            #expect(blocks.count == model.count)
        }
        #expect(blocks.largestFirst(skip: 2, limit: 3) == Array(model.sorted().reversed().dropFirst(2).prefix(3)))
    }
}
