import PiSyncStore
import PiSyncTestSupport
import Testing

@Suite("Alert history")
struct AlertHistoryTests {
    static func alert(_ sequence: UInt64) -> FailureAlert {
        FailureAlert(
            sequence: sequence, deviceID: "pibox-\(sequence)", consecutiveFailures: 3, firstFailureTimestamp: 1,
            lastFailureTimestamp: 2)
    }

    @Test("keeps the newest alerts, oldest first, up to its capacity")
    func bounded() {
        var history = AlertHistory(capacity: 3)
        history.append(contentsOf: (1...5).map(Self.alert))
        #expect(history.alerts.map(\.sequence) == [3, 4, 5])
        #expect(history.lastSequence == 5)
        history.append(Self.alert(6))
        #expect(history.alerts.map(\.sequence) == [4, 5, 6])
    }

    @Test("an alert it already holds (snapshot and log both carry it) is kept once")
    func skipsWhatItHolds() {
        var history = AlertHistory(capacity: 10)
        history.append(contentsOf: (1...4).map(Self.alert))
        history.append(contentsOf: (3...6).map(Self.alert))
        #expect(history.alerts.map(\.sequence) == [1, 2, 3, 4, 5, 6])
    }

    @Test("a capacity of 0 keeps nothing")
    func zero() {
        var history = AlertHistory(capacity: 0)
        history.append(Self.alert(1))
        #expect(history.alerts.isEmpty && history.lastSequence == 0)
    }

    @Test("the store keeps every alert and recovery it numbers, bounded by alertHistory")
    func storeKeepsAlerts() {
        let store = SyncStore(configuration: StoreConfiguration(alertThreshold: 1, alertHistory: 2))
        store.recordEach([
            event("a", .failed, at: 1), event("b", .failed, at: 1), event("a", .success, at: 2), event("c", .failed, at: 1),
        ])
        let history = store.alertHistory
        #expect(history.lastSequence == 4)
        #expect(history.alerts.map(\.sequence) == [3, 4])
        #expect(history.alerts.first?.recovery?.status == .success)
        #expect(history.alerts.last?.deviceID == "c")
    }
}
