import PiSyncTestSupport
import PiSyncStore
import Testing

@Suite("History pagination")
struct HistoryPaginationTests {
    /// A store holding `count` events of "pi" at offsets 1...count, recorded in a scrambled order.
    func makeStore(count: Int) -> SyncStore {
        let store = SyncStore()
        // 7 is coprime with every count used here, so this visits each offset once, out of order.
        let order = (0..<count).map { ($0 * 7) % count + 1 }
        for chunk in stride(from: 0, to: count, by: 4) {
            let batch = order[chunk..<min(chunk + 4, count)].map { event("pi", .success, at: Int64($0)) }
            store.record(batch, now: testNow)
        }
        return store
    }

    func offsets(_ page: HistoryPage) -> [Int64] { page.events.map { $0.timestamp - t0 } }

    @Test("0 page and 0 limit mean page 1 of 10")
    func defaults() throws {
        let request = try PageRequest(page: 0, limit: 0)
        #expect(request.page == 1)
        #expect(request.limit == 10)
        #expect(try PageRequest(page: 0, limit: 5).page == 1)
        #expect(try PageRequest(page: 4, limit: 0).limit == 10)

        let page = try makeStore(count: 25).history(of: "pi", page: request)
        #expect(offsets(page) == Array((16...25).reversed()))
        #expect(page.total == 25)
        #expect(page.page == request)
    }

    @Test("limits 1 through 100 are accepted as given", arguments: [UInt32(1), 2, 50, 99, 100])
    func acceptedLimits(limit: UInt32) throws {
        let request = try PageRequest(page: 2, limit: limit)
        #expect(request.limit == Int(limit))
        #expect(request.page == 2)
    }

    @Test("a limit above 100 is refused on field limit", arguments: [UInt32(101), 1000, .max])
    func refusedLimits(limit: UInt32) {
        let error = #expect(throws: FieldViolation.self) { try PageRequest(page: 1, limit: limit) }
        #expect(error?.field == "limit")
        #expect(error?.kind == .invalidArgument)
    }

    @Test("limit 100 returns up to 100 events")
    func limitHundred() throws {
        let page = try makeStore(count: 130).history(of: "pi", page: PageRequest(page: 1, limit: 100))
        #expect(page.events.count == 100)
        #expect(offsets(page) == Array((31...130).reversed()))
        #expect(page.total == 130)
    }

    @Test("the last page is partial")
    func lastPartialPage() throws {
        let page = try makeStore(count: 25).history(of: "pi", page: PageRequest(page: 3, limit: 10))
        #expect(offsets(page) == [5, 4, 3, 2, 1])
        #expect(page.total == 25)
    }

    @Test("a page past the end is empty and still reports the total", arguments: [UInt32(4), 5, 1000, .max])
    func pastTheEnd(page number: UInt32) throws {
        let page = try makeStore(count: 25).history(of: "pi", page: PageRequest(page: number, limit: 10))
        #expect(page.events.isEmpty)
        #expect(page.total == 25)
        #expect(page.page.page == Int(number))
    }

    @Test("pages partition the history newest first", arguments: [UInt32(1), 3, 7, 10, 23, 24])
    func pagesPartitionHistory(limit: UInt32) throws {
        let store = makeStore(count: 23)
        var seen: [Int64] = []
        for number in 1...24 {
            let page = try store.history(of: "pi", page: PageRequest(page: UInt32(number), limit: limit))
            #expect(page.events.count <= Int(limit))
            seen += offsets(page)
        }
        #expect(seen == Array((1...23).reversed()))
    }

    @Test("events are newest first regardless of arrival order, with every field kept")
    func newestFirstWithFields() throws {
        let store = SyncStore()
        let a = SyncEvent(deviceID: "pi", timestamp: t0 + 300, filesSynced: 1, errors: 2, internetSpeed: 3.5)
        let b = SyncEvent(deviceID: "pi", timestamp: t0 + 100, filesSynced: 0, errors: 9, internetSpeed: 0)
        let c = SyncEvent(deviceID: "pi", timestamp: t0 + 200, filesSynced: 40, errors: 0, internetSpeed: 87.25)
        let d = SyncEvent(deviceID: "pi", timestamp: t0 + 50, filesSynced: 2, errors: 0, internetSpeed: 1)
        store.record([a, b], now: testNow)
        store.record([c], now: testNow)
        store.record([d], now: testNow)
        let page = try store.history(of: "pi", page: PageRequest(page: 1, limit: 10))
        #expect(page.events == [a, c, b, d])
        #expect(page.events.map(\.status) == [.partial, .success, .failed, .success])
    }

    @Test("histories are per device")
    func perDevice() throws {
        let store = SyncStore()
        store.record([event("a", .success, at: 1), event("b", .failed, at: 2), event("a", .failed, at: 3)], now: testNow)
        #expect(try store.allHistory(of: "a").map(\.timestamp) == [t0 + 3, t0 + 1])
        #expect(try store.allHistory(of: "b").map(\.deviceID) == ["b"])
    }

    @Test("an unknown device is not found on device_id", arguments: ["never-seen", "PI", ""])
    func unknownDevice(deviceID: String) {
        let store = SyncStore()
        store.record([event("pi", .success, at: 1)], now: testNow)
        let error = #expect(throws: FieldViolation.self) {
            try store.history(of: deviceID, page: PageRequest(page: 1, limit: 10))
        }
        #expect(error?.kind == .notFound)
        #expect(error?.field == "device_id")
    }

    @Test("a device whose events were all rejected is unknown")
    func rejectedOnlyDeviceIsUnknown() {
        let store = SyncStore()
        store.record([SyncEvent(deviceID: "pi", timestamp: 1, filesSynced: 0, errors: 0, internetSpeed: 0)], now: testNow)
        #expect(throws: FieldViolation.self) { try store.history(of: "pi", page: PageRequest(page: 1, limit: 10)) }
    }
}
