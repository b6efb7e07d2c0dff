import PiSyncTestSupport
import Foundation
import PiSyncPersistence
import PiSyncStore
import Testing

@Suite("Write-ahead log round trip")
struct WriteAheadLogRoundTripTests {
    /// Records `calls` through `logged`'s store and waits until the log holds them durably;
    /// `oneByOne` waits after each call, so that each is written (and may roll) on its own.
    func record(_ calls: [[SyncEvent]], into logged: LoggedStore, oneByOne: Bool = false) async {
        for call in calls {
            logged.store.record(call, now: testNow)
            if oneByOne { await logged.waitUntilDurable() }
        }
        await logged.waitUntilDurable()
    }

    @Test("a store recovered from its log answers exactly as the original", arguments: FsyncPolicy.allCases)
    func roundTrip(policy: FsyncPolicy) async throws {
        try await withAsyncScratch { directory in
            let calls = workload(calls: 40, devices: 5)
            let first = try LoggedStore(directory) { $0.fsync = policy }
            #expect(first.report.snapshot == nil)
            #expect(first.report.lastSequence == 0)
            await record(calls, into: first)
            #expect(first.log.appendedSequence == 40)
            #expect(first.log.durableSequence == 40)
            #expect(first.log.fault == nil)
            #expect(first.alerts.alerts.count >= 5, "the workload raises alerts")
            await first.log.close()

            let second = try LoggedStore(directory) { $0.fsync = policy }
            #expect(second.report.replayedRecords == 40)
            #expect(second.report.replayedEvents == 40)
            #expect(second.report.lastSequence == 40)
            #expect(second.report.tornTail == nil)
            #expect(second.store.observableState == first.store.observableState)
            #expect(second.store.observableState == referenceState(calls))
            #expect(second.store.currentAlertSequence == UInt64(first.alerts.alerts.count))
            #expect(second.alerts.alerts.isEmpty, "replay publishes no alerts")

            // Recording continues: the next record is number 41, the next alert follows the old ones.
            await record((1...3).map { [event("newcomer", .failed, at: 1_000 + $0)] }, into: second)
            #expect(second.log.appendedSequence == 43)
            #expect(second.alerts.alerts.map(\.sequence) == [first.store.currentAlertSequence + 1])
            await second.log.close()

            let third = try LoggedStore(directory)
            #expect(third.report.lastSequence == 43)
            #expect(third.store.observableState == second.store.observableState)
            await third.log.close()
        }
    }

    @Test("a batch across shards is one record and replays whole")
    func multiShardBatch() async throws {
        try await withAsyncScratch { directory in
            let first = try LoggedStore(directory)
            let batch = (0..<50).map { event("device-\($0)", $0 % 3 == 0 ? .failed : .success, at: Int64($0)) }
            let outcome = first.store.record(batch + [batch[0]], now: testNow)
            #expect(outcome.accepted == 50)
            #expect(outcome.duplicates == 1)
            await first.waitUntilDurable()
            let records = first.log.appendedSequence
            #expect(records == 1, "one record for the whole batch, whatever shards it touched")
            await first.log.close()

            let second = try LoggedStore(directory)
            #expect(second.report.replayedRecords == Int(records))
            #expect(second.report.replayedEvents == 50, "duplicates are not logged")
            #expect(second.store.observableState == first.store.observableState)
            await second.log.close()
        }
    }

    @Test("recovery loads the snapshot and replays only the records after it")
    func snapshotThenLog() async throws {
        try await withAsyncScratch { directory in
            let before = workload(calls: 24, devices: 3)
            let after = workload(calls: 16, devices: 4, startingAt: 100)
            let first = try LoggedStore(directory)
            await record(before, into: first)
            let covered = first.log.appendedSequence
            let summary = try SnapshotFile(directory: directory).write(first.store, logSequence: covered, takenAt: testNow)
            #expect(summary.logSequence == 24)
            await record(after, into: first)
            await first.log.close()

            let second = try LoggedStore(directory)
            #expect(second.report.snapshot == summary)
            #expect(second.report.replayedRecords == 16)
            #expect(second.report.replayedEvents == 16)
            #expect(second.report.lastSequence == 40)
            #expect(second.store.observableState == first.store.observableState)
            #expect(second.store.observableState == referenceState(before + after))

            await record([[event("late", .success, at: 1)]], into: second)
            #expect(second.log.appendedSequence == 41)
            await second.log.close()
        }
    }

    @Test("segments a snapshot covers are deleted, and recovery needs only the rest")
    func removeCoveredSegments() async throws {
        try await withAsyncScratch { directory in
            let before = workload(calls: 30)
            let after = workload(calls: 10, startingAt: 100)
            let first = try LoggedStore(directory) { $0.segmentBytes = 200 }
            await record(before, into: first, oneByOne: true)
            let segmentsBefore = try segmentPaths(in: directory)
            #expect(segmentsBefore.count >= 4, "\(segmentsBefore)")

            let covered = first.log.appendedSequence
            _ = try SnapshotFile(directory: directory).write(first.store, logSequence: covered, takenAt: testNow)
            let removed = try first.log.removeSegments(coveredBy: covered)
            #expect(!removed.isEmpty)
            #expect(removed.allSatisfy { !FileManager.default.fileExists(atPath: $0.path) })
            let remaining = try segmentPaths(in: directory)
            #expect(!remaining.isEmpty)
            #expect(Set(remaining).isDisjoint(with: removed.map(\.path)))
            #expect(Set(removed.map(\.path)).isSubset(of: segmentsBefore))
            // What is left holds every record after the snapshot.
            let (scan, _) = try scanLog(directory, after: covered)
            #expect(try #require(scan.segments.first).firstSequence <= covered + 1)
            #expect(scan.segments.count == remaining.count)

            await record(after, into: first)
            await first.log.close()

            let second = try LoggedStore(directory) { $0.segmentBytes = 200 }
            #expect(second.report.replayedRecords == 10)
            #expect(second.store.observableState == referenceState(before + after))
            await second.log.close()

            // Without the snapshot, the log alone no longer holds the first records.
            try FileManager.default.removeItem(atPath: SnapshotFile(directory: directory).path)
            #expect(throws: WriteAheadLogError.self) { _ = try LoggedStore(directory) }
        }
    }

    @Test("recovery deletes the segments the snapshot covers")
    func recoveryRemovesCoveredSegments() async throws {
        try await withAsyncScratch { directory in
            let calls = workload(calls: 30)
            let first = try LoggedStore(directory) { $0.segmentBytes = 200 }
            await record(calls, into: first, oneByOne: true)
            _ = try SnapshotFile(directory: directory).write(first.store, logSequence: first.log.appendedSequence, takenAt: 0)
            await first.log.close()
            let count = try segmentPaths(in: directory).count
            #expect(count >= 4)

            let second = try LoggedStore(directory) { $0.segmentBytes = 200 }
            #expect(second.report.removedSegments == count - 1)
            #expect(try segmentPaths(in: directory).count == 1)
            #expect(second.report.replayedRecords == 0)
            #expect(second.store.observableState == referenceState(calls))
            await second.log.close()
        }
    }
}
