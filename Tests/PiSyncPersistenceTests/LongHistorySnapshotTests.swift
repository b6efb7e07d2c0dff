import PiSyncPersistence
import PiSyncStore
import PiSyncTestSupport
import Testing

/// A device's history longer than one snapshot record holds.
@Suite("Long device histories in a snapshot")
struct LongHistorySnapshotTests {
    // Regression (review): a device was one record however long its history; past ~5.6M events
    // the record exceeded what the reader accepts, so the snapshot was written but could never
    // be read back, and the log segments it covered were already deleted.
    @Test("a history is split over several records and joined again on load")
    func splitAndJoined() throws {
        try withScratch { directory in
            let store = AlertCollector().makeStore(threshold: 3)
            store.recordEach((1...10).map { event("long", .failed, at: Int64($0)) })
            store.recordEach([event("short", .success, at: 1)])
            let summary = try SnapshotFile(directory: directory).write(store, logSequence: 0, takenAt: testNow, eventsPerRecord: 3)
            #expect(summary.devices == 2 && summary.events == 11)
            let deviceRecords = framedRecords(in: try readBytes(directory + "/snapshot.pisync")).filter { $0.body.first == 2 }.count
            #expect(deviceRecords == 5)  // 4 for "long", 1 for "short"

            let restored = AlertCollector().makeStore(threshold: 3)
            let loaded = try SnapshotFile(directory: directory).load(into: restored)
            #expect(loaded?.devices == 2 && loaded?.events == 11)
            #expect(try restored.allHistory(of: "long") == store.allHistory(of: "long"))
            #expect(restored.summary(of: "long") == store.summary(of: "long"))
            // The streak had alerted: one more failure must not alert again.
            #expect(restored.recordEach([event("long", .failed, at: 11)]).allSatisfy { $0.alerts.isEmpty })
        }
    }
}
