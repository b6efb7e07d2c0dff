import PiSyncTestSupport
import PiSyncStore
import Testing

@Suite("Listing failing devices")
struct FailureListTests {
    /// A fleet with known failure records:
    ///
    /// | device | failed | total | run | last failure | last success |
    /// |--------|--------|-------|-----|--------------|--------------|
    /// | dev-d  | 6      | 7     | 3   | 13           | 10           |
    /// | dev-a  | 5      | 6     | 5   | 5            | 0            |
    /// | dev-e  | 4      | 5     | 0   | 90           | none         |
    /// | dev-b  | 4      | 4     | 4   | 40           | none         |
    /// | dev-c  | 3      | 3     | 3   | 3            | none         |
    /// | dev-g  | 2      | 2     | 2   | 77           | none         |
    /// | dev-h  | 2      | 2     | 2   | 77           | none         |
    /// | dev-f  | 0      | 5     | 0   | -            | 5            |
    func fleet() -> SyncStore {
        let store = SyncStore()
        var events: [SyncEvent] = []
        events += [1, 2, 3, 11, 12, 13].map { event("dev-d", .failed, at: $0) } + [event("dev-d", .success, at: 10)]
        events += [event("dev-a", .success, at: 0)] + (1...5).map { event("dev-a", .failed, at: $0) }
        events += (87...90).map { event("dev-e", .failed, at: $0) } + [event("dev-e", .partial, at: 91)]
        events += (37...40).map { event("dev-b", .failed, at: $0) }
        events += (1...3).map { event("dev-c", .failed, at: $0) }
        events += ["dev-h", "dev-g"].flatMap { id in [76, 77].map { event(id, .failed, at: $0) } }
        events += (1...5).map { event("dev-f", .success, at: $0) }
        // Arrive in reverse, in a few batches, to show order of arrival does not matter.
        let reversed = Array(events.reversed())
        for start in stride(from: 0, to: reversed.count, by: 9) {
            store.record(Array(reversed[start..<min(start + 9, reversed.count)]), now: testNow)
        }
        return store
    }

    func ids(_ page: FailurePage) -> [String] { page.devices.map(\.deviceID) }

    static let thresholdCases: [(Int, [String])] = [
        (0, ["dev-d", "dev-a", "dev-e", "dev-b", "dev-c", "dev-g", "dev-h"]),
        (2, ["dev-d", "dev-a", "dev-e", "dev-b", "dev-c"]),
        (3, ["dev-d", "dev-a", "dev-e", "dev-b"]),
        (4, ["dev-d", "dev-a"]),
        (5, ["dev-d"]),
        (6, []),
        (1000, []),
    ]

    @Test("lists devices with more failures than the threshold, in ListFailures order", arguments: thresholdCases)
    func thresholds(threshold: Int, expected: [String]) throws {
        let page = fleet().failures(above: threshold, page: try PageRequest(page: 1, limit: 100))
        #expect(ids(page) == expected)
        #expect(page.total == expected.count)
        #expect(page.threshold == threshold)
    }

    @Test("the default threshold is 3: a device needs 4 failures")
    func defaultThreshold() throws {
        #expect(SyncStore.defaultFailureThreshold == 3)
        let page = fleet().failures(above: SyncStore.defaultFailureThreshold, page: try PageRequest(page: 0, limit: 0))
        #expect(ids(page) == ["dev-d", "dev-a", "dev-e", "dev-b"])
        #expect(page.page == (try PageRequest(page: 1, limit: 10)))
    }

    @Test("summaries carry counts, the current run and the newest timestamps")
    func summaries() throws {
        let page = fleet().failures(above: 0, page: try PageRequest(page: 1, limit: 100))
        let byID = Dictionary(uniqueKeysWithValues: page.devices.map { ($0.deviceID, $0) })

        let d = try #require(byID["dev-d"])
        #expect([d.failedSyncs, d.totalSyncs, d.consecutiveFailures] == [6, 7, 3])
        #expect(d.lastFailureTimestamp == t0 + 13)
        #expect(d.lastSuccessTimestamp == t0 + 10)

        let a = try #require(byID["dev-a"])
        #expect([a.failedSyncs, a.totalSyncs, a.consecutiveFailures] == [5, 6, 5])
        #expect(a.lastSuccessTimestamp == t0)

        let e = try #require(byID["dev-e"])
        #expect([e.failedSyncs, e.totalSyncs, e.consecutiveFailures] == [4, 5, 0])
        #expect(e.lastFailureTimestamp == t0 + 90)
        #expect(e.lastSuccessTimestamp == nil)  // a partial is not a success

        let b = try #require(byID["dev-b"])
        #expect([b.failedSyncs, b.totalSyncs, b.consecutiveFailures] == [4, 4, 4])
        #expect(b.lastSuccessTimestamp == nil)
        #expect(byID["dev-f"] == nil)
    }

    struct PageCase: Sendable, CustomTestStringConvertible {
        var page: UInt32
        var limit: UInt32
        var expected: [String]
        var testDescription: String { "page \(page) of \(limit)" }
    }

    static let pageCases: [PageCase] = [
        PageCase(page: 1, limit: 2, expected: ["dev-d", "dev-a"]),
        PageCase(page: 2, limit: 2, expected: ["dev-e", "dev-b"]),
        PageCase(page: 3, limit: 2, expected: []),
        PageCase(page: 2, limit: 3, expected: ["dev-b"]),
        PageCase(page: .max, limit: 100, expected: []),
    ]

    @Test("pages of the list", arguments: pageCases)
    func paging(_ row: PageCase) throws {
        let page = fleet().failures(above: 3, page: try PageRequest(page: row.page, limit: row.limit))
        let expected = row.expected
        #expect(ids(page) == expected)
        #expect(page.total == 4)
    }

    @Test("equal counts and last failures fall back to device id order")
    func deviceIDTiebreak() throws {
        let store = SyncStore()
        for id in ["zeta", "alpha", "Mid", "beta"] {
            store.record([event(id, .failed, at: 1), event(id, .failed, at: 2)], now: testNow)
        }
        let page = store.failures(above: 1, page: try PageRequest(page: 1, limit: 10))
        #expect(ids(page) == ["Mid", "alpha", "beta", "zeta"])
    }

    @Test("a device moves up as it gains failures, including old ones arriving late")
    func orderFollowsUpdates() throws {
        let store = fleet()
        store.record([event("dev-c", .failed, at: -5), event("dev-c", .failed, at: -4)], now: testNow)
        var page = store.failures(above: 3, page: try PageRequest(page: 1, limit: 10))
        // dev-c now has 5 failures like dev-a, but an older last failure (3 < 5).
        #expect(ids(page) == ["dev-d", "dev-a", "dev-c", "dev-e", "dev-b"])
        #expect(page.devices[2].consecutiveFailures == 5)

        store.record([event("dev-b", .failed, at: 41), event("dev-b", .failed, at: 42), event("dev-b", .failed, at: 43)], now: testNow)
        page = store.failures(above: 3, page: try PageRequest(page: 1, limit: 10))
        #expect(ids(page) == ["dev-b", "dev-d", "dev-a", "dev-c", "dev-e"])
        #expect(page.devices[0].failedSyncs == 7)
        #expect(page.total == 5)
    }

    @Test("successes and partials neither list a device nor change its failure count")
    func nonFailuresDoNotCount() throws {
        let store = fleet()
        store.record((200...220).map { event("dev-c", $0.isMultiple(of: 2) ? .success : .partial, at: Int64($0)) }, now: testNow)
        let page = store.failures(above: 2, page: try PageRequest(page: 1, limit: 10))
        let c = try #require(page.devices.first { $0.deviceID == "dev-c" })
        #expect(c.failedSyncs == 3)
        #expect(c.consecutiveFailures == 0)
        #expect(c.totalSyncs == 24)
        #expect(c.lastSuccessTimestamp == t0 + 220)
        #expect(page.total == 5)
    }
}
