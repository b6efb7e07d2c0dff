@testable import PiSyncStore
import Testing

@Suite("Snapshot body and restore")
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

    func restored(from store: SyncStore, _ collector: AlertCollector) throws -> SyncStore {
        let body = try store.snapshotBody(takenAt: testNow)
        return try SyncStore(
            restoringFrom: body, configuration: StoreConfiguration(alertThreshold: 3),
            onAlert: { collector.append($0) })
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
    }

    @Test("an already-alerted streak does not alert again after a restore")
    func streakAlertedSurvives() throws {
        let collector = AlertCollector()
        let after = try restored(from: original(AlertCollector()), collector)
        let outcomes = after.recordEach([event("alerted", .failed, at: 4), event("alerted", .failed, at: 5)])
        #expect(outcomes.allSatisfy { $0.alerts.isEmpty })
        #expect(collector.alerts.isEmpty)
        #expect(after.summary(of: "alerted")?.consecutiveFailures == 5)

        // Once the streak ends, the next one alerts, numbered after the old alerts.
        after.recordEach([event("alerted", .success, at: 6)] + (7...9).map { event("alerted", .failed, at: $0) })
        #expect(collector.alerts.map(\.sequence) == [3])
        #expect(collector.alerts.first?.firstFailureTimestamp == t0 + 7)
    }

    @Test("an unalerted streak alerts after a restore, continuing the sequence")
    func sequenceContinues() throws {
        let collector = AlertCollector()
        let after = try restored(from: original(AlertCollector()), collector)
        after.recordEach([event("pending", .failed, at: 4)])
        after.recordEach((5...7).map { event("recovered", .failed, at: $0) })

        #expect(collector.alerts.map(\.deviceID) == ["pending", "recovered"])
        #expect(collector.alerts.map(\.sequence) == [3, 4])
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

    @Test("the body records the alert sequence, the time and each device in order")
    func bodyContents() throws {
        let body = try original(AlertCollector()).snapshotBody(takenAt: 123_456)
        let snapshot = try Pisync_Storage_V1_Snapshot(serializedBytes: body)
        #expect(snapshot.lastAlertSequence == 2)
        #expect(snapshot.takenAt == 123_456)
        #expect(Set(snapshot.devices.map(\.deviceID)) == Set(Self.devices))
        let pending = try #require(snapshot.devices.first { $0.deviceID == "pending" })
        #expect(pending.events.map(\.timestamp) == [t0 + 1, t0 + 2, t0 + 3])
        #expect(pending.streakAlerted == false)
        #expect(snapshot.devices.first { $0.deviceID == "alerted" }?.streakAlerted == true)
        #expect(snapshot.devices.first { $0.deviceID == "recovered" }?.streakAlerted == false)
    }

    @Test("a restored store snapshots to the same state")
    func secondRoundTripIsStable() throws {
        let first = original(AlertCollector())
        let second = try restored(from: first, AlertCollector())
        let third = try restored(from: second, AlertCollector())
        func normalized(_ store: SyncStore) throws -> Pisync_Storage_V1_Snapshot {
            var snapshot = try Pisync_Storage_V1_Snapshot(serializedBytes: store.snapshotBody(takenAt: 1))
            snapshot.devices.sort { $0.deviceID < $1.deviceID }
            return snapshot
        }
        #expect(try normalized(first) == normalized(third))
    }

    @Test("an empty store round-trips to an empty store")
    func emptyStore() throws {
        let collector = AlertCollector()
        let body = try SyncStore().snapshotBody(takenAt: testNow)
        let store = try SyncStore(restoringFrom: body, configuration: StoreConfiguration(alertThreshold: 1), onAlert: { collector.append($0) })
        #expect(store.failures(above: 0, page: try PageRequest(page: 1, limit: 10)).total == 0)
        #expect(throws: FieldViolation.self) { try store.history(of: "pi", page: PageRequest(page: 1, limit: 10)) }
        store.recordEach([event("pi", .failed, at: 1)])
        #expect(collector.alerts.map(\.sequence) == [1])
    }

    @Test("a body that does not decode is corrupt", arguments: [
        [UInt8(0x1A), 0x10, 0x01],  // devices field declares 16 bytes, has 1
        [0x08],  // varint field with no value
        [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF],  // endless varint tag
    ])
    func corruptBody(body: [UInt8]) {
        let error = #expect(throws: SnapshotError.self) { try SyncStore(restoringFrom: body) }
        guard case .corrupt = error else {
            Issue.record("expected .corrupt, got \(String(describing: error))")
            return
        }
    }
}
