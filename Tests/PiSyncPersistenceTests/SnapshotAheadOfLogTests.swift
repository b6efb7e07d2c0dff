import PiSyncPersistence
import PiSyncStore
import PiSyncTestSupport
import Testing

/// A snapshot can cover records the log never got (appended, taken into the snapshot, then the
/// process died before the writer wrote them); the log then goes on after the snapshot.
@Suite("Snapshot ahead of the log")
struct SnapshotAheadOfLogTests {
    // Regression: recovery took the gap between the old segment and the one started after the
    // snapshot for missing records and refused to start, although the snapshot holds them
    // (possible when the process died between starting the new segment and deleting the old).
    @Test("a gap between segments that the snapshot covers is not damage")
    func gapCoveredBySnapshot() async throws {
        try await withAsyncScratch { directory in
            // Records 1...5 in the log.
            let first = try LoggedStore(directory)
            for offset in 1...5 { first.store.record([event("pi", .failed, at: Int64(offset))], now: testNow) }
            await first.waitUntilDurable()
            await first.log.close()
            // A snapshot covering records up to 8: 6...8 reached the store but never the log.
            for offset in 6...8 { first.store.record([event("pi", .success, at: Int64(offset))], now: testNow) }
            _ = try SnapshotFile(directory: directory).write(first.store, logSequence: 8, takenAt: testNow)

            // The next run starts segment 9 and dies before deleting segment 1.
            let scan = try LogScan.read(directory: directory, after: 8) { _ in }
            let log = WriteAheadLog(configuration: .init(directory: directory))
            try log.open(after: scan, snapshotSequence: 8)
            log.append([event("pi", .failed, at: 9)], alerts: [])
            _ = await log.durability(of: 9)
            await log.close()
            #expect(try segmentPaths(in: directory).count == 2)

            let recovered = try LoggedStore(directory)
            #expect(try recovered.store.allHistory(of: "pi").map(\.timestamp) == (1...9).reversed().map { t0 + Int64($0) })
            #expect(recovered.report.lastSequence == 9)
            await recovered.log.close()
        }
    }
}
