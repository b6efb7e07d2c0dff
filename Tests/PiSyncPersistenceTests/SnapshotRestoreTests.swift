import PiSyncTestSupport
import PiSyncPersistence
import PiSyncStore
import Testing

@Suite("Snapshot restore")
struct SnapshotRestoreTests {
    static let devices = ["alerted", "recovered", "pending", "mixed"]

    /// A store with: "alerted" F F F (alert 1); "recovered" F F F (alert 2) then S;
    /// "pending" S F F; "mixed" P S F P.
    func original(_ collector: AlertCollector) -> SyncStore {
        let store = collector.makeStore(threshold: 3)
        store.recordEach([1, 2, 3].map { event("alerted", .failed, at: $0) })
        store.recordEach([1, 2, 3].map { event("recovered", .failed, at: $0) } + [event("recovered", .success, at: 4)])
        store.record([event("pending", .failed, at: 3), event("pending", .success, at: 1), event("pending", .failed, at: 2)], now: testNow)
        store.record([
            event("mixed", .partial, at: 1, speed: 0.25), event("mixed", .success, at: 2, speed: 99.5),
            event("mixed", .failed, at: 3, speed: 0), event("mixed", .partial, at: 4, speed: 7),
        ], now: testNow)
        return store
    }

    /// Writes `store` to a snapshot file and loads it into a new store (threshold 3) whose
    /// alerts go to `collector`.
    func restored(from store: SyncStore, _ collector: AlertCollector) throws -> SyncStore {
        try restoredWithSummary(from: store, collector).store
    }

    func restoredWithSummary(
        from store: SyncStore, _ collector: AlertCollector, takenAt: Int64 = testNow
    ) throws -> (store: SyncStore, summary: SnapshotSummary) {
        try withScratch { directory in
            let file = SnapshotFile(directory: directory)
            _ = try file.write(store, logSequence: 5, takenAt: takenAt)
            let restored = collector.makeStore(threshold: 3)
            let summary = try #require(try file.load(into: restored))
            return (restored, summary)
        }
    }

    @Test("histories, counters and the failure list survive a round trip")
    func preservesState() throws {
        let before = original(AlertCollector())
        let after = try restored(from: before, AlertCollector())
        for device in Self.devices {
            #expect(try after.allHistory(of: device) == before.allHistory(of: device), "history of \(device)")
            #expect(after.summary(of: device) == before.summary(of: device), "summary of \(device)")
        }
        let everyone = try PageRequest(page: 1, limit: 100)
        #expect(after.failures(above: 0, page: everyone) == before.failures(above: 0, page: everyone))
        #expect(after.failures(above: 0, page: everyone).devices.map(\.deviceID) == ["alerted", "recovered", "pending", "mixed"])
        #expect(after.summary(of: "pending")?.consecutiveFailures == 2)
        #expect(after.summary(of: "alerted")?.consecutiveFailures == 3)
        #expect(after.currentAlertSequence == 3)  // two alerts and the recovery of "recovered"
        #expect(after.observableState == before.observableState)
    }

    @Test("an already-alerted streak does not alert again after a restore")
    func streakAlertedSurvives() throws {
        let collector = AlertCollector()
        let after = try restored(from: original(AlertCollector()), collector)
        let outcomes = after.recordEach([event("alerted", .failed, at: 4), event("alerted", .failed, at: 5)])
        #expect(outcomes.allSatisfy { $0.alerts.isEmpty })
        #expect(collector.alerts.isEmpty)
        #expect(after.summary(of: "alerted")?.consecutiveFailures == 5)

        // Once the streak ends (a recovery: the restored streak had alerted), the next one
        // alerts, numbered after the old alerts.
        after.recordEach([event("alerted", .success, at: 6)] + (7...9).map { event("alerted", .failed, at: $0) })
        #expect(collector.alerts.map(\.sequence) == [4, 5])
        #expect(collector.alerts.first?.recovery == .init(timestamp: t0 + 6, status: .success))
        #expect(collector.alerts.last?.firstFailureTimestamp == t0 + 7)
    }

    @Test("an unalerted streak alerts after a restore, continuing the sequence")
    func sequenceContinues() throws {
        let collector = AlertCollector()
        let after = try restored(from: original(AlertCollector()), collector)
        after.recordEach([event("pending", .failed, at: 4)])
        after.recordEach((5...7).map { event("recovered", .failed, at: $0) })

        #expect(collector.alerts.map(\.deviceID) == ["pending", "recovered"])
        #expect(collector.alerts.map(\.sequence) == [4, 5])
        #expect(collector.alerts.first?.firstFailureTimestamp == t0 + 2)
        #expect(collector.alerts.first?.consecutiveFailures == 3)
    }

    @Test("duplicates of restored events are still duplicates")
    func restoredEventsDeduplicate() throws {
        let after = try restored(from: original(AlertCollector()), AlertCollector())
        let outcome = after.record([event("mixed", .failed, at: 2), event("pending", .success, at: 3)], now: testNow)
        #expect(outcome.duplicates == 2)
        #expect(outcome.accepted == 0)
        #expect(try after.allHistory(of: "mixed").map(\.status) == [.partial, .failed, .success, .partial])
    }

    @Test("the snapshot records the alert sequence, the time and each device with its streak flag")
    func snapshotContents() throws {
        let (after, summary) = try restoredWithSummary(from: original(AlertCollector()), AlertCollector(), takenAt: 123_456)
        #expect(summary.lastAlertSequence == 3)
        #expect(summary.takenAt == 123_456)
        #expect(summary.logSequence == 5)
        #expect(summary.devices == 4)
        #expect(summary.events == 14)
        let devices = after.observableState.devices
        #expect(Set(devices.map(\.deviceID)) == Set(Self.devices))
        let pending = try #require(devices.first { $0.deviceID == "pending" })
        #expect(pending.events.map(\.timestamp) == [t0 + 1, t0 + 2, t0 + 3])
        #expect(pending.streakAlerted == false)
        #expect(devices.first { $0.deviceID == "alerted" }?.streakAlerted == true)
        #expect(devices.first { $0.deviceID == "recovered" }?.streakAlerted == false)
        #expect(devices.first { $0.deviceID == "mixed" }?.events.map(\.internetSpeed) == [0.25, 99.5, 0, 7])
    }

    @Test("a restored store snapshots to the same state")
    func secondRoundTripIsStable() throws {
        let first = original(AlertCollector())
        let second = try restored(from: first, AlertCollector())
        let third = try restored(from: second, AlertCollector())
        #expect(third.observableState == first.observableState)
    }

    @Test("an empty store round-trips to an empty store")
    func emptyStore() throws {
        let collector = AlertCollector()
        let (store, summary) = try restoredWithSummary(from: SyncStore(), collector)
        #expect(summary.devices == 0)
        #expect(summary.events == 0)
        #expect(summary.lastAlertSequence == 0)
        #expect(store.failures(above: 0, page: try PageRequest(page: 1, limit: 10)).total == 0)
        #expect(throws: FieldViolation.self) { try store.history(of: "pi", page: PageRequest(page: 1, limit: 10)) }
        store.recordEach((1...3).map { event("pi", .failed, at: $0) })
        #expect(collector.alerts.map(\.sequence) == [1])
    }
}
