import Foundation
import PiSyncPersistence
import PiSyncStore
import PiSyncTestSupport
import Testing

/// Under `--fsync interval` a record is acknowledged once written, before it is synced. A disk
/// fault must not take such records off the disk while it lasts.
@Suite("Disk faults under fsync interval")
struct IntervalFaultTests {
    static let calls = workload(calls: 10, devices: 2)

    // Regression (review): after a failed fdatasync the writer cut the segment back to its last
    // synced length before it could write the records anywhere else; while the disk kept
    // failing, records acknowledged under `interval` existed only in memory, and a kill -9
    // then lost them.
    @Test("records acknowledged before a failed fdatasync stay readable on disk while the fault lasts")
    func acknowledgedRecordsStayOnDisk() async throws {
        try await withAsyncScratch { directory in
            let fileSystem = FaultInjectingFileSystem()
            let logged = try LoggedStore(directory, fileSystem: fileSystem) {
                $0.fsync = .interval
                $0.fsyncInterval = .milliseconds(200)
                $0.retryInterval = .milliseconds(20)
            }
            fileSystem.failAll(syncs: true)
            for call in Self.calls.prefix(5) { logged.store.record(call, now: testNow) }
            // Written well before the fsync timer fires: acknowledged.
            #expect(await logged.log.durability(of: 5).isSuccess, "acknowledged once written")
            // Past the fsync timer and several retries: the sync keeps failing.
            try await Task.sleep(for: .milliseconds(600))
            #expect(logged.log.fault != nil)
            // What a restart after kill -9 would read now: every acknowledged record.
            let (_, events) = try scanLog(directory)
            #expect(events.count == 5, "acknowledged records were cut off the disk during the fault")

            fileSystem.failAll()
            #expect(await eventually { logged.log.fault == nil })
            await logged.log.close()
            let (scan, after) = try scanLog(directory)
            #expect(after.count == 5 && scan.lastSequence == 5 && scan.tornTail == nil)
        }
    }

    @Test("a segment superseded by its successor is read only up to the successor's first record")
    func supersededTail() async throws {
        try await withAsyncScratch { directory in
            let logged = try LoggedStore(directory)
            for call in Self.calls { logged.store.record(call, now: testNow) }
            await logged.waitUntilDurable()
            await logged.log.close()
            // As if the writer had rewritten records 6...10 into a new segment and died before
            // cutting the old one, whose tail is garbage now.
            let old = try #require(try segmentPaths(in: directory).first)
            let bytes = try readBytes(old)
            let records = framedRecords(in: bytes)
            let sixth = records[5].offset
            var successor = Array(bytes[..<16])
            for record in records[5...] { successor += Array(bytes[record.offset..<record.end]) }
            try writeBytes(successor, to: directory + "/wal-00000000000000000006.log")
            var damaged = bytes
            for index in sixth..<damaged.count { damaged[index] = UInt8(truncatingIfNeeded: index * 7) }
            try writeBytes(damaged, to: old)

            let recovered = try LoggedStore(directory)
            #expect(recovered.report.lastSequence == 10)
            #expect(recovered.report.tornTail == nil)
            #expect(recovered.store.observableState == referenceState(Self.calls))
            await recovered.log.close()
        }
    }
}

extension Result {
    var isSuccess: Bool {
        if case .success = self { return true }
        return false
    }
}
