import Dispatch
import PiSyncStore
import PiSyncTestSupport
import Synchronization
import Testing

/// Alerts reach `onAlert` with no store lock held, in sequence order.
@Suite("Alert delivery outside the store's locks", .timeLimit(.minutes(1)))
struct AlertDeliveryLockTests {
    // Regression (issue 7): `onAlert` ran under the shard lock and the alert-sequence lock, so
    // one subscriber's encoding and system calls stalled every connection recording into the
    // same shard or raising an alert.
    @Test("recording and raising alerts go on while a delivery is blocked")
    func slowDeliveryDoesNotStallRecording() throws {
        let entered = DispatchSemaphore(value: 0)
        let unblock = DispatchSemaphore(value: 0)
        let delivered = Mutex<[FailureAlert]>([])
        let store = SyncStore(configuration: StoreConfiguration(alertThreshold: 1, shardCount: 1)) { alert in
            delivered.withLock { $0.append(alert) }
            if alert.deviceID == "pi-slow" {
                entered.signal()
                _ = unblock.wait(timeout: .now() + 10)
            }
        }
        let first = DispatchGroup()
        DispatchQueue.global().async(group: first) {
            store.record([event("pi-slow", .failed, at: 1000)], now: testNow)
        }
        #expect(entered.wait(timeout: .now() + 5) == .success, "the first alert was never delivered")

        // The same shard (there is one) and a new alert, while the first delivery is blocked.
        let others = DispatchGroup()
        let otherOutcome = Mutex<RecordOutcome?>(nil)
        DispatchQueue.global().async(group: others) {
            store.record([event("pi-slow", .success, at: 2000)], now: testNow)
            otherOutcome.withLock { $0 = store.record([event("pi-other", .failed, at: 1000)], now: testNow) }
        }
        let finished = others.wait(timeout: .now() + 2)
        unblock.signal()
        first.wait()
        #expect(finished == .success, "recording waited for another connection's alert delivery")

        // The blocked deliverer handed on what was raised meanwhile (pi-slow's recovery, then
        // pi-other's alert), after its own.
        #expect(otherOutcome.withLock { $0?.alerts.map(\.sequence) } == [3])
        #expect(delivered.withLock { $0.map(\.sequence) } == [1, 2, 3])
        #expect(delivered.withLock { $0.map(\.deviceID) } == ["pi-slow", "pi-slow", "pi-other"])
    }

    @Test("alerts raised from many threads reach onAlert once each, in sequence order")
    func concurrentAlertsInOrder() {
        let delivered = Mutex<[UInt64]>([])
        let store = SyncStore(configuration: StoreConfiguration(alertThreshold: 1, shardCount: 4)) { alert in
            delivered.withLock { $0.append(alert.sequence) }
        }
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            for index in 0..<500 {
                // A success between failures ends the streak, so every failure alerts again and
                // every success is a recovery.
                let device = "pi-\(worker)"
                store.record([event(device, .failed, at: Int64(index * 2) * 1000)], now: testNow)
                store.record([event(device, .success, at: Int64(index * 2 + 1) * 1000)], now: testNow)
            }
        }
        #expect(delivered.withLock { $0 } == Array(1...8000))
    }
}
