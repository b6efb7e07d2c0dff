import PiSyncTestSupport
import PiSyncStore
import Testing

/// `(device_id, timestamp)` identifies an event; the first write wins.
@Suite("Duplicate events")
struct DuplicateEventTests {
    @Test("a duplicate within one batch is counted, not stored")
    func duplicateWithinBatch() throws {
        let store = SyncStore()
        let first = SyncEvent(deviceID: "pi", timestamp: t0, filesSynced: 9, errors: 0, internetSpeed: 20)
        let second = SyncEvent(deviceID: "pi", timestamp: t0, filesSynced: 0, errors: 3, internetSpeed: 1)
        let outcome = store.record([first, second], now: testNow)

        #expect(outcome.accepted == 1)
        #expect(outcome.duplicates == 1)
        #expect(outcome.rejected.isEmpty)
        #expect(try store.allHistory(of: "pi") == [first])
        #expect(store.summary(of: "pi")?.failedSyncs == 0)
        #expect(store.changeCount == 1)
    }

    @Test("a duplicate in a later batch does not change the stored event")
    func duplicateAcrossBatches() throws {
        let store = SyncStore()
        let original = event("pi", .success, at: 0)
        #expect(store.record([original], now: testNow).accepted == 1)

        var retry = event("pi", .failed, at: 0)
        retry.internetSpeed = 99
        let outcome = store.record([retry, event("pi", .success, at: 1)], now: testNow)
        #expect(outcome.accepted == 1)
        #expect(outcome.duplicates == 1)

        let history = try store.allHistory(of: "pi")
        #expect(history == [event("pi", .success, at: 1), original])
        let summary = try #require(store.summary(of: "pi"))
        #expect(summary.failedSyncs == 0)
        #expect(summary.totalSyncs == 2)
        #expect(store.failures(above: 0, page: try PageRequest(page: 1, limit: 10)).total == 0)
    }

    @Test("a duplicate of an older (not the newest) event is found")
    func duplicateOfOlderEvent() throws {
        let store = SyncStore()
        store.record((0..<10).map { event("pi", .success, at: Int64($0) * 100) }, now: testNow)
        for offset in [Int64(0), 300, 500, 900] {
            let outcome = store.record([event("pi", .failed, at: offset)], now: testNow)
            #expect(outcome.accepted == 0)
            #expect(outcome.duplicates == 1)
        }
        #expect(try store.history(of: "pi", page: PageRequest(page: 0, limit: 0)).total == 10)
        #expect(store.summary(of: "pi")?.failedSyncs == 0)
        #expect(store.changeCount == 10)
    }

    @Test("re-sent failures do not lengthen a streak or raise an alert")
    func retriedFailuresDoNotAlert() {
        let collector = AlertCollector()
        let store = collector.makeStore(threshold: 3)
        let failures = [event("pi", .failed, at: 1), event("pi", .failed, at: 2)]
        store.record(failures, now: testNow)
        let retry = store.record(failures + failures, now: testNow)

        #expect(retry.accepted == 0)
        #expect(retry.duplicates == 4)
        #expect(collector.alerts.isEmpty)
        #expect(store.summary(of: "pi")?.consecutiveFailures == 2)
        #expect(store.summary(of: "pi")?.failedSyncs == 2)
    }

    @Test("the same timestamp on different devices is two events")
    func sameTimestampDifferentDevices() throws {
        let store = SyncStore()
        let outcome = store.record(
            [event("pi-a", .success, at: 0), event("pi-b", .success, at: 0), event("pi-a", .success, at: 0)],
            now: testNow)
        #expect(outcome.accepted == 2)
        #expect(outcome.duplicates == 1)
        #expect(try store.allHistory(of: "pi-a").count == 1)
        #expect(try store.allHistory(of: "pi-b").count == 1)
    }

    @Test("accepted + duplicates + rejected equals the batch size")
    func outcomeAccountsForEveryEvent() {
        let store = SyncStore()
        store.record([event("pi", .success, at: 1)], now: testNow)
        let bad = SyncEvent(deviceID: "pi", timestamp: 5, filesSynced: 0, errors: 0, internetSpeed: 1)
        let batch = [
            event("pi", .success, at: 1),  // duplicate of the earlier batch
            event("pi", .failed, at: 2),
            bad,
            event("pi", .failed, at: 2),  // duplicate within this batch
            event("other", .partial, at: 2),
        ]
        let outcome = store.record(batch, now: testNow)
        #expect(outcome.accepted == 2)
        #expect(outcome.duplicates == 2)
        #expect(outcome.rejected.map(\.index) == [2])
        #expect(outcome.accepted + outcome.duplicates + outcome.rejected.count == batch.count)
        #expect(store.changeCount == 3)
    }
}
