import PiSyncTestSupport
import PiSyncStore
import Testing

@Suite("Failure streaks and alerts")
struct FailureAlertTests {
    @Test("a streak alerts once, on the failure that reaches the threshold")
    func alertsExactlyOncePerStreak() throws {
        let collector = AlertCollector()
        let store = collector.makeStore(threshold: 3)
        let outcomes = store.recordEach((1...5).map { event("pi", .failed, at: Int64($0) * 1000) })

        #expect(outcomes.map(\.alerts.count) == [0, 0, 1, 0, 0])
        let alert = try #require(collector.alerts.first)
        #expect(collector.alerts.count == 1)
        #expect(outcomes[2].alerts == [alert])
        #expect(alert.sequence == 1)
        #expect(alert.deviceID == "pi")
        #expect(alert.consecutiveFailures == 3)
        #expect(alert.firstFailureTimestamp == t0 + 1000)
        #expect(alert.lastFailureTimestamp == t0 + 3000)
        #expect(store.summary(of: "pi")?.consecutiveFailures == 5)
    }

    @Test("a success or partial ends the streak; the next streak alerts again", arguments: [SyncStatus.success, .partial])
    func newStreakAlertsAgain(ending: SyncStatus) throws {
        let collector = AlertCollector()
        let store = collector.makeStore(threshold: 3)
        store.recordEach([
            event("pi", .failed, at: 1), event("pi", .failed, at: 2), event("pi", .failed, at: 3),
            event("pi", .failed, at: 4),
            event("pi", ending, at: 5),
        ])
        #expect(store.summary(of: "pi")?.consecutiveFailures == 0)
        let second = store.recordEach([event("pi", .failed, at: 6), event("pi", .failed, at: 7), event("pi", .failed, at: 8)])

        #expect(second.map(\.alerts.count) == [0, 0, 1])
        // Alert, the recovery that ended its run (issue 9), then the next run's alert.
        let alerts = collector.alerts
        try #require(alerts.count == 3)
        #expect(alerts.map(\.sequence) == [1, 2, 3])
        #expect(alerts.map { $0.recovery == nil } == [true, false, true])
        #expect(alerts[1].recovery == .init(timestamp: t0 + 5, status: ending))
        #expect(alerts[1].lastFailureTimestamp == t0 + 4)
        #expect(alerts[2].firstFailureTimestamp == t0 + 6)
        #expect(alerts[2].lastFailureTimestamp == t0 + 8)
        #expect(alerts[2].consecutiveFailures == 3)
    }

    @Test("a failure after a partial does not continue the earlier run")
    func partialBreaksTheRun() {
        let collector = AlertCollector()
        let store = collector.makeStore(threshold: 3)
        store.recordEach([
            event("pi", .failed, at: 1), event("pi", .failed, at: 2), event("pi", .partial, at: 3),
            event("pi", .failed, at: 4), event("pi", .failed, at: 5),
        ])
        #expect(collector.alerts.isEmpty)
        #expect(store.summary(of: "pi")?.consecutiveFailures == 2)
    }

    struct ThresholdCase: Sendable, CustomTestStringConvertible {
        var threshold: Int
        var failures: Int
        var alertAt: Int?  // 1-based failure that alerts, nil for none
        var testDescription: String { "threshold \(threshold), \(failures) failures" }
    }

    @Test("threshold edges", arguments: [
        ThresholdCase(threshold: 1, failures: 1, alertAt: 1),
        ThresholdCase(threshold: 1, failures: 4, alertAt: 1),
        ThresholdCase(threshold: 2, failures: 2, alertAt: 2),
        ThresholdCase(threshold: 3, failures: 2, alertAt: nil),
        ThresholdCase(threshold: 3, failures: 3, alertAt: 3),
        ThresholdCase(threshold: 5, failures: 4, alertAt: nil),
        ThresholdCase(threshold: 5, failures: 5, alertAt: 5),
        ThresholdCase(threshold: 5, failures: 9, alertAt: 5),
    ])
    func thresholdEdges(_ row: ThresholdCase) {
        let collector = AlertCollector()
        let store = collector.makeStore(threshold: row.threshold)
        let outcomes = store.recordEach((1...row.failures).map { event("pi", .failed, at: Int64($0)) })
        let alerting = outcomes.indices.filter { !outcomes[$0].alerts.isEmpty }.map { $0 + 1 }
        #expect(alerting == (row.alertAt.map { [$0] } ?? []))
        #expect(collector.alerts.count == (row.alertAt == nil ? 0 : 1))
        #expect(collector.alerts.first?.consecutiveFailures == row.alertAt)
    }

    @Test("threshold 1 alerts on every failure that follows a success")
    func thresholdOneAlertsPerRun() {
        let collector = AlertCollector()
        let store = collector.makeStore(threshold: 1)
        store.recordEach([
            event("pi", .failed, at: 1), event("pi", .failed, at: 2), event("pi", .success, at: 3),
            event("pi", .failed, at: 4),
        ])
        let alerts = collector.alerts.filter { $0.recovery == nil }
        #expect(alerts.map(\.firstFailureTimestamp) == [t0 + 1, t0 + 4])
        #expect(collector.alerts.map(\.sequence) == [1, 2, 3])  // the success's recovery is 2
        #expect(collector.alerts[1].recovery?.timestamp == t0 + 3)
    }

    @Test("a threshold below 1 is treated as 1", arguments: [0, -3])
    func thresholdClampsToOne(threshold: Int) {
        #expect(StoreConfiguration(alertThreshold: threshold).alertThreshold == 1)
        let collector = AlertCollector()
        let store = collector.makeStore(threshold: threshold)
        store.recordEach([event("pi", .failed, at: 1)])
        #expect(collector.alerts.count == 1)
    }

    @Test("one batch F F F S F F F raises two alerts and a recovery between them, in order")
    func batchWithTwoStreaks() throws {
        let collector = AlertCollector()
        let store = collector.makeStore(threshold: 3)
        let statuses: [SyncStatus] = [.failed, .failed, .failed, .success, .failed, .failed, .failed]
        let batch = statuses.enumerated().map { event("pi", $1, at: Int64($0 + 1) * 10) }
        let outcome = store.record(batch, now: testNow)

        #expect(outcome.accepted == 7)
        #expect(outcome.alerts == collector.alerts)
        try #require(outcome.alerts.count == 3)  // alert, recovery, alert
        #expect(outcome.alerts.map(\.sequence) == [1, 2, 3])
        #expect(outcome.alerts[0].firstFailureTimestamp == t0 + 10)
        #expect(outcome.alerts[0].lastFailureTimestamp == t0 + 30)
        #expect(outcome.alerts[1].recovery?.timestamp == t0 + 40)
        #expect(outcome.alerts[2].firstFailureTimestamp == t0 + 50)
        #expect(outcome.alerts[1].lastFailureTimestamp == t0 + 30)  // the run the recovery ended
        #expect(outcome.alerts[2].lastFailureTimestamp == t0 + 70)
        #expect(outcome.alerts.filter { $0.recovery == nil }.allSatisfy { $0.consecutiveFailures == 3 && $0.deviceID == "pi" })
    }

    @Test("streaks are per device and sequences are global")
    func perDeviceStreaksGlobalSequence() {
        let collector = AlertCollector()
        let store = collector.makeStore(threshold: 3)
        store.recordEach([
            event("a", .failed, at: 1), event("b", .failed, at: 1), event("a", .failed, at: 2),
            event("b", .failed, at: 2), event("c", .failed, at: 1), event("a", .failed, at: 3),
            event("c", .failed, at: 2), event("b", .failed, at: 3),
        ])
        // c has only two failures: no alert for it.
        #expect(collector.alerts.map(\.deviceID) == ["a", "b"])
        #expect(collector.alerts.map(\.sequence) == [1, 2])
        store.recordEach([event("c", .failed, at: 3)])
        #expect(collector.alerts.map(\.deviceID) == ["a", "b", "c"])
        #expect(collector.alerts.map(\.sequence) == [1, 2, 3])
    }

    @Test("a store started with lastAlertSequence numbers above it")
    func sequenceStartsAfterGivenValue() {
        let collector = AlertCollector()
        let store = SyncStore(
            configuration: StoreConfiguration(alertThreshold: 1), lastAlertSequence: 41,
            onAlert: { collector.append($0) })
        store.recordEach([event("pi", .failed, at: 1), event("pi", .success, at: 2), event("pi", .failed, at: 3)])
        #expect(collector.alerts.map(\.sequence) == [42, 43, 44])  // alert, recovery, alert
    }

    @Test("successes and partials alone never alert")
    func noAlertWithoutFailures() throws {
        let collector = AlertCollector()
        let store = collector.makeStore(threshold: 1)
        store.recordEach((1...6).map { event("pi", $0.isMultiple(of: 2) ? .success : .partial, at: Int64($0)) })
        #expect(collector.alerts.isEmpty)
        #expect(store.failures(above: 0, page: try PageRequest(page: 1, limit: 10)).total == 0)
    }

    @Test("recoveries: only a sync newer than an alerted run ends it with a recovery; unalerted runs and late syncs inside the run raise none")
    func recoveries() {
        let collector = AlertCollector()
        let store = collector.makeStore(threshold: 3)
        // Two failures, then a success: the run never alerted, so no recovery.
        store.recordEach([event("a", .failed, at: 1), event("a", .failed, at: 2), event("a", .success, at: 3)])
        #expect(collector.alerts.isEmpty)
        // Alerted run; a late success inside it (older than its newest failures) is no recovery.
        store.recordEach([event("b", .failed, at: 10), event("b", .failed, at: 20), event("b", .failed, at: 30),
                          event("b", .failed, at: 40), event("b", .success, at: 15)])
        #expect(collector.alerts.map { $0.recovery == nil } == [true])
        // A success newer than the run: one recovery, then nothing more for more successes.
        store.recordEach([event("b", .success, at: 50), event("b", .success, at: 60)])
        #expect(collector.alerts.map { $0.recovery == nil } == [true, false])
        #expect(collector.alerts[1].recovery == .init(timestamp: t0 + 50, status: .success))
        #expect(collector.alerts[1].lastFailureTimestamp == t0 + 40)
    }

    // Regression (review): a late success that shortened an alerted run below the threshold
    // cleared the alerted flag, and the recovery that followed never came.
    @Test("a late success that shortens an alerted run below the threshold still leaves its recovery owed")
    func recoveryAfterShortenedRun() {
        let collector = AlertCollector()
        let store = collector.makeStore(threshold: 3)
        store.recordEach([event("c", .failed, at: 10), event("c", .failed, at: 20), event("c", .failed, at: 30),
                          event("c", .failed, at: 40), event("c", .success, at: 25)])
        #expect(collector.alerts.count == 1)
        store.recordEach([event("c", .success, at: 50)])
        #expect(collector.alerts.map { $0.recovery == nil } == [true, false])
        #expect(collector.alerts.last?.recovery?.timestamp == t0 + 50)
    }
}
