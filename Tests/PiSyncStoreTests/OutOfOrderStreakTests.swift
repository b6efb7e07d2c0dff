import PiSyncTestSupport
import PiSyncStore
import Testing

/// Runs are counted over the newest events by timestamp, not by arrival order.
@Suite("Streaks with out-of-order arrivals")
struct OutOfOrderStreakTests {
    @Test("a failed backlog older than a newer success makes no streak")
    func olderFailedBacklogDoesNotStreak() throws {
        let collector = AlertCollector()
        let store = collector.makeStore(threshold: 3)
        store.recordEach([event("pi", .success, at: 1000)])
        // The offline backlog arrives later, in one batch, with older timestamps.
        let outcome = store.record((1...5).map { event("pi", .failed, at: Int64($0)) }, now: testNow)

        #expect(outcome.accepted == 5)
        #expect(outcome.alerts.isEmpty)
        #expect(collector.alerts.isEmpty)
        let summary = try #require(store.summary(of: "pi"))
        #expect(summary.consecutiveFailures == 0)
        #expect(summary.failedSyncs == 5)
        #expect(summary.lastFailureTimestamp == t0 + 5)
        #expect(summary.lastSuccessTimestamp == t0 + 1000)
    }

    @Test("a backlog arriving newest-first builds the same streak", arguments: [3, 4, 6])
    func reverseOrderBacklogStreaks(count: Int) throws {
        let collector = AlertCollector()
        let store = collector.makeStore(threshold: 3)
        store.recordEach([event("pi", .success, at: 0)])
        store.recordEach((1...count).reversed().map { event("pi", .failed, at: Int64($0)) })

        #expect(store.summary(of: "pi")?.consecutiveFailures == count)
        let alert = try #require(collector.alerts.first)
        #expect(collector.alerts.count == 1)
        // When the third failure arrived, the run held timestamps count-2 ... count.
        #expect(alert.consecutiveFailures == 3)
        #expect(alert.firstFailureTimestamp == t0 + Int64(count - 2))
        #expect(alert.lastFailureTimestamp == t0 + Int64(count))
    }

    @Test("an old failure inside the trailing run extends it and can alert", arguments: [Int64(5), 15])
    func oldFailureInsideRunExtendsIt(insertedAt: Int64) throws {
        let collector = AlertCollector()
        let store = collector.makeStore(threshold: 3)
        store.recordEach([event("pi", .success, at: 1), event("pi", .failed, at: 10), event("pi", .failed, at: 20)])
        #expect(collector.alerts.isEmpty)

        let outcome = store.record([event("pi", .failed, at: insertedAt)], now: testNow)

        let alert = try #require(outcome.alerts.first)
        #expect(collector.alerts == [alert])
        #expect(alert.consecutiveFailures == 3)
        #expect(alert.firstFailureTimestamp == t0 + min(insertedAt, 10))
        #expect(alert.lastFailureTimestamp == t0 + 20)
        #expect(store.summary(of: "pi")?.consecutiveFailures == 3)
    }

    @Test("an old failure before the run's ending success does not extend it")
    func failureBeforeSuccessDoesNotExtend() {
        let collector = AlertCollector()
        let store = collector.makeStore(threshold: 3)
        store.recordEach([event("pi", .success, at: 5), event("pi", .failed, at: 10), event("pi", .failed, at: 20)])
        store.recordEach([event("pi", .failed, at: 1)])
        #expect(collector.alerts.isEmpty)
        #expect(store.summary(of: "pi")?.consecutiveFailures == 2)
        #expect(store.summary(of: "pi")?.failedSyncs == 3)
    }

    @Test("a success inserted inside the trailing run ends the streak", arguments: [SyncStatus.success, .partial])
    func successInsideRunEndsIt(ending: SyncStatus) {
        let collector = AlertCollector()
        let store = collector.makeStore(threshold: 3)
        store.recordEach([event("pi", .failed, at: 10), event("pi", .failed, at: 20)])
        store.recordEach([event("pi", ending, at: 15)])
        #expect(store.summary(of: "pi")?.consecutiveFailures == 1)

        // Without the inserted event, this would be the 3rd failure in a row.
        store.recordEach([event("pi", .failed, at: 30)])
        #expect(collector.alerts.isEmpty)
        #expect(store.summary(of: "pi")?.consecutiveFailures == 2)
    }

    @Test("a success older than the whole run does not end it")
    func successBeforeRunKeepsIt() throws {
        let collector = AlertCollector()
        let store = collector.makeStore(threshold: 3)
        store.recordEach([event("pi", .failed, at: 10), event("pi", .failed, at: 20)])
        store.recordEach([event("pi", .success, at: 5)])
        #expect(store.summary(of: "pi")?.consecutiveFailures == 2)
        store.recordEach([event("pi", .failed, at: 30)])
        let alert = try #require(collector.alerts.first)
        #expect(alert.firstFailureTimestamp == t0 + 10)
        #expect(alert.lastFailureTimestamp == t0 + 30)
    }

    @Test("after an alerted run is split by an old success, the next full run alerts again")
    func splitAlertedRunRearms() throws {
        let collector = AlertCollector()
        let store = collector.makeStore(threshold: 3)
        store.recordEach([event("pi", .failed, at: 10), event("pi", .failed, at: 20), event("pi", .failed, at: 30)])
        #expect(collector.alerts.count == 1)
        store.recordEach([event("pi", .success, at: 25)])
        #expect(store.summary(of: "pi")?.consecutiveFailures == 1)
        #expect(collector.alerts.count == 1)

        store.recordEach([event("pi", .failed, at: 40)])
        #expect(collector.alerts.count == 1)
        store.recordEach([event("pi", .failed, at: 50)])
        try #require(collector.alerts.count == 2)
        let second = collector.alerts[1]
        #expect(second.sequence == 2)
        #expect(second.firstFailureTimestamp == t0 + 30)
        #expect(second.lastFailureTimestamp == t0 + 50)
    }

    // Regression: a late success that split an alerted run but left it at or over the
    // threshold used to count as a new streak and alert the same failures a second time.
    @Test("a late success that leaves the alerted run over the threshold alerts nothing new")
    func lateSuccessInsideAlertedRunDoesNotRealert() {
        let collector = AlertCollector()
        let store = collector.makeStore(threshold: 3)
        store.recordEach([10, 20, 30, 40, 50].map { event("pi", .failed, at: $0) })
        #expect(collector.alerts.count == 1)
        let late = store.recordEach([event("pi", .success, at: 15)])
        #expect(late.first?.alerts.isEmpty == true)
        #expect(store.summary(of: "pi")?.consecutiveFailures == 4)
        store.recordEach([event("pi", .failed, at: 60)])
        #expect(collector.alerts.count == 1)
    }

    @Test("last success and last failure are the newest by timestamp, not by arrival")
    func lastTimestampsAreNewest() throws {
        let store = SyncStore()
        store.recordEach([event("pi", .success, at: 50), event("pi", .success, at: 10)])
        #expect(store.summary(of: "pi")?.lastSuccessTimestamp == t0 + 50)
        store.recordEach([event("pi", .failed, at: 70), event("pi", .failed, at: 60)])
        let summary = try #require(store.summary(of: "pi"))
        #expect(summary.lastFailureTimestamp == t0 + 70)
        #expect(summary.consecutiveFailures == 2)
        #expect(summary.lastSuccessTimestamp == t0 + 50)
    }
}
