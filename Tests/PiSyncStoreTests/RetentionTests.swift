import PiSyncStore
import PiSyncTestSupport
import Testing

/// Retention in the store: which events leave memory, and that every number a client reads
/// stays what it was.
@Suite struct RetentionTests {
    let everything = try! PageRequest(page: 1, limit: 100)

    /// `count` events of `device`, one every `spacing` ms (a minute) from `t0`, every third failed.
    func fill(_ store: SyncStore, _ device: String, count: Int, from start: Int = 0, spacing: Int64 = 60_000) {
        let events = (start..<start + count).map { index in
            event(device, index % 3 == 0 ? .failed : .success, at: Int64(index) * spacing)
        }
        store.record(events, now: testNow)
    }

    /// Archives what `policy` says, as the archiver does once the archive holds it; returns it.
    @discardableResult
    func archive(_ store: SyncStore, _ policy: RetentionPolicy, now: Int64 = testNow) -> [SyncEvent] {
        let due = store.dueForArchive(policy, now: now)
        store.archive(due, cycle: store.archiveCycle + 1)
        return due.flatMap { device in device.events.map { $0.event(of: device.deviceID) } }
    }

    @Test func theCountRuleKeepsEachDevicesNewestEvents() throws {
        let store = SyncStore()
        fill(store, "pi-a", count: 100)
        fill(store, "pi-b", count: 5)
        let before = (store.summary(of: "pi-a"), store.summary(of: "pi-b"))
        let moved = archive(store, RetentionPolicy(retainEventsPerDevice: 10))
        #expect(moved.map(\.timestamp) == (0..<90).map { t0 + Int64($0) * 60_000 })
        #expect(moved.allSatisfy { $0.deviceID == "pi-a" })
        #expect(store.heldEventCount == 15)
        #expect(store.summary(of: "pi-a") == before.0)
        #expect(store.summary(of: "pi-b") == before.1)
        let page = try store.history(of: "pi-a", page: everything)
        #expect(page.total == 100)
        #expect(page.archived == 90)
        #expect(page.archivedThrough == t0 + 89 * 60_000)
        #expect(page.events.map(\.timestamp) == (90..<100).reversed().map { t0 + Int64($0) * 60_000 })
    }

    @Test func theAgeRuleMovesEventsOlderThanTheCutoffByTimestamp() throws {
        let store = SyncStore()
        fill(store, "pi-a", count: 10)  // t0 ... t0 + 9 min
        // Four days after t0 + 5 min, with 4 days kept: t0 ... t0 + 4 min are older.
        let now = t0 + 5 * 60_000 + 4 * 86_400_000
        let moved = archive(store, RetentionPolicy(retainDays: 4), now: now)
        #expect(moved.map(\.timestamp) == (0..<5).map { t0 + Int64($0) * 60_000 })
        #expect(try store.history(of: "pi-a", page: everything).events.count == 5)
        #expect(archive(store, RetentionPolicy(retainDays: 4), now: now).isEmpty)
    }

    @Test func memoryStaysFlatAndTheArchiveHoldsExactlyWhatLeft() throws {
        let store = SyncStore()
        let policy = RetentionPolicy(retainEventsPerDevice: 50)
        var archived: [SyncEvent] = []
        var held: [Int] = []
        for round in 0..<40 {
            fill(store, "pi-a", count: 25, from: round * 25, spacing: 1000)
            archived += archive(store, policy)
            held.append(store.heldEventCount)
        }
        #expect(held.dropFirst(2).allSatisfy { $0 == 50 }, "held: \(held)")
        let recorded = (0..<1000).map { index in
            event("pi-a", index % 3 == 0 ? .failed : .success, at: Int64(index) * 1000)
        }
        let inMemory = try store.history(of: "pi-a", page: everything).events.reversed()
        #expect(archived + inMemory == recorded, "archived \(archived.count), held \(inMemory.count)")
        #expect(store.summary(of: "pi-a")?.totalSyncs == 1000)
        #expect(store.summary(of: "pi-a")?.failedSyncs == 334)
    }

    @Test func aRetryOfAnArchivedEventIsADuplicate() throws {
        let store = SyncStore()
        fill(store, "pi-a", count: 20)
        let moved = archive(store, RetentionPolicy(retainEventsPerDevice: 5))
        let outcome = store.record([moved[3]], now: testNow)
        #expect(outcome.accepted == 0 && outcome.duplicates == 1)
        // Older than anything archived: taken as archived too (the archive is not read).
        let older = store.record([event("pi-a", .success, at: -60_000)], now: testNow)
        #expect(older.duplicates == 1)
        #expect(try store.history(of: "pi-a", page: everything).total == 20)
        // Newer than the horizon, even if older than the newest held event: stored.
        let late = store.record([event("pi-a", .success, at: 15 * 60_000 + 1)], now: testNow)
        #expect(late.accepted == 1)
        #expect(try store.history(of: "pi-a", page: everything).total == 21)
    }

    @Test func aFailureStreakReachingIntoTheArchiveKeepsItsLengthAndStart() throws {
        let collector = AlertCollector()
        let store = collector.makeStore(threshold: 3)
        let failures = (0..<6).map { event("pi-a", .failed, at: Int64($0) * 60_000) }
        store.record(failures, now: testNow)
        archive(store, RetentionPolicy(retainEventsPerDevice: 2))
        #expect(store.summary(of: "pi-a")?.consecutiveFailures == 6)
        // A late failure inside the held run recounts the run: 3 held + 4 archived.
        store.record([event("pi-a", .failed, at: 4 * 60_000 + 30_000)], now: testNow)
        #expect(store.summary(of: "pi-a")?.consecutiveFailures == 7)
        #expect(store.summary(of: "pi-a")?.failedSyncs == 7)
        // A success ends it and owes the recovery of the alert raised before archiving.
        store.record([event("pi-a", .success, at: 10 * 60_000)], now: testNow)
        #expect(store.summary(of: "pi-a")?.consecutiveFailures == 0)
        #expect(collector.alerts.map(\.consecutiveFailures) == [3, 0])
        #expect(collector.alerts.last?.recovery != nil)
    }

    @Test func aDeviceWhoseEventsAllLeftMemoryKeepsCountingAndAlerting() throws {
        let collector = AlertCollector()
        let store = collector.makeStore(threshold: 3)
        store.record((0..<2).map { event("pi-a", .failed, at: Int64($0) * 60_000) }, now: testNow)
        archive(store, RetentionPolicy(retainDays: 1), now: t0 + 2 * 86_400_000)
        #expect(store.heldEventCount == 0)
        #expect(try store.history(of: "pi-a", page: everything).events.isEmpty)
        store.record([event("pi-a", .failed, at: 10 * 60_000)], now: testNow)
        #expect(collector.alerts.first?.consecutiveFailures == 3)
        #expect(collector.alerts.first?.firstFailureTimestamp == t0)
        #expect(store.summary(of: "pi-a")?.totalSyncs == 3)
    }

    @Test func aRestoredDeviceHasTheSameNumbers() throws {
        let store = SyncStore()
        fill(store, "pi-a", count: 30)
        archive(store, RetentionPolicy(retainEventsPerDevice: 7))
        let restored = SyncStore()
        for shard in 0..<store.shardCount {
            for device in store.devices(inShard: shard) { restored.restore(device) }
        }
        #expect(restored.summary(of: "pi-a") == store.summary(of: "pi-a"))
        #expect(try restored.history(of: "pi-a", page: everything) == store.history(of: "pi-a", page: everything))
        #expect(restored.record([event("pi-a", .success, at: 0)], now: testNow).duplicates == 1)
    }
}
