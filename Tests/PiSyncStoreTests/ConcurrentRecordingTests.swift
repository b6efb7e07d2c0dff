import PiSyncTestSupport
@testable import PiSyncStore
import Synchronization
import Testing

@Suite("Concurrent recording")
struct ConcurrentRecordingTests {
    static let tasks = 8
    static let eventsPerTask = 500
    static let deviceCount = 20

    static func device(_ index: Int) -> String { "pi-\(index % deviceCount)" }

    /// Task `task`'s events: unique timestamps across tasks, every third one failed.
    static func events(ofTask task: Int) -> [SyncEvent] {
        (0..<eventsPerTask).map { index in
            let serial = index * tasks + task
            return event(device(index), serial % 3 == 0 ? .failed : .success, at: Int64(serial))
        }
    }

    /// Records each task's events concurrently, `batchSize` per call, and sums the outcomes.
    static func recordConcurrently(
        into store: SyncStore, batchSize: Int, events: @escaping @Sendable (Int) -> [SyncEvent]
    ) async -> RecordOutcome {
        await withTaskGroup(of: RecordOutcome.self) { group in
            for task in 0..<tasks {
                group.addTask {
                    var total = RecordOutcome()
                    let mine = events(task)
                    for start in stride(from: 0, to: mine.count, by: batchSize) {
                        let outcome = store.record(Array(mine[start..<min(start + batchSize, mine.count)]), now: testNow)
                        total.accepted += outcome.accepted
                        total.duplicates += outcome.duplicates
                        total.rejected += outcome.rejected
                        total.alerts += outcome.alerts
                    }
                    return total
                }
            }
            var sum = RecordOutcome()
            for await outcome in group {
                sum.accepted += outcome.accepted
                sum.duplicates += outcome.duplicates
                sum.rejected += outcome.rejected
                sum.alerts += outcome.alerts
            }
            return sum
        }
    }

    @Test("every event is stored exactly once and the totals add up", arguments: [(1, 1), (64, 1), (1, 25), (64, 25)])
    func totalsAddUp(shardCount: Int, batchSize: Int) async throws {
        let store = SyncStore(configuration: StoreConfiguration(shardCount: shardCount))
        let sum = await Self.recordConcurrently(into: store, batchSize: batchSize) { Self.events(ofTask: $0) }

        let expectedTotal = Self.tasks * Self.eventsPerTask
        let expectedFailed = (0..<expectedTotal).filter { $0 % 3 == 0 }.count
        #expect(sum.accepted == expectedTotal)
        #expect(sum.duplicates == 0)
        #expect(sum.rejected.isEmpty)
        #expect(store.changeCount == UInt64(expectedTotal))

        var stored = 0
        var failed = 0
        for index in 0..<Self.deviceCount {
            let id = Self.device(index)
            let summary = try #require(store.summary(of: id))
            #expect(summary.totalSyncs == expectedTotal / Self.deviceCount)
            stored += summary.totalSyncs
            failed += summary.failedSyncs
            // The history is strictly newest first, however the writers interleaved.
            var timestamps: [Int64] = []
            for page in 1...2 {
                timestamps += try store.history(of: id, page: PageRequest(page: UInt32(page), limit: 100)).events.map(\.timestamp)
            }
            #expect(timestamps.count == 200)
            #expect(zip(timestamps, timestamps.dropFirst()).allSatisfy { $0 > $1 })
        }
        #expect(stored == expectedTotal)
        #expect(failed == expectedFailed)
        let listed = store.failures(above: 0, page: try PageRequest(page: 1, limit: 100))
        #expect(listed.total == Self.deviceCount)
        #expect(listed.devices.map(\.failedSyncs).reduce(0, +) == expectedFailed)
    }

    @Test("racing writers of the same events store each once")
    func racingDuplicates() async throws {
        let store = SyncStore()
        let shared = Self.events(ofTask: 0)
        let sum = await Self.recordConcurrently(into: store, batchSize: 10) { _ in shared }
        #expect(sum.accepted == Self.eventsPerTask)
        #expect(sum.duplicates == (Self.tasks - 1) * Self.eventsPerTask)
        #expect(store.changeCount == UInt64(Self.eventsPerTask))
        for index in 0..<Self.deviceCount {
            #expect(store.summary(of: Self.device(index))?.totalSyncs == Self.eventsPerTask / Self.deviceCount)
        }
    }

    @Test("concurrent failures raise one alert per device, with gap-free increasing sequences")
    func concurrentAlerts() async throws {
        let collector = AlertCollector()
        let store = collector.makeStore(threshold: 3)
        let sum = await Self.recordConcurrently(into: store, batchSize: 5) { task in
            Self.events(ofTask: task).map { var failed = $0; failed.filesSynced = 0; failed.errors = 1; return failed }
        }
        let alerts = collector.alerts
        #expect(alerts.count == Self.deviceCount)
        #expect(Set(alerts.map(\.deviceID)).count == Self.deviceCount)
        #expect(alerts.map(\.sequence) == (1...UInt64(Self.deviceCount)).map { $0 })
        #expect(Set(sum.alerts) == Set(alerts))
        #expect(alerts.allSatisfy { $0.consecutiveFailures == 3 })
        for index in 0..<Self.deviceCount {
            #expect(store.summary(of: Self.device(index))?.consecutiveFailures == Self.eventsPerTask * Self.tasks / Self.deviceCount)
        }
    }
}
