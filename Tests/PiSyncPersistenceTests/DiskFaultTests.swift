import PiSyncTestSupport
import Foundation
import PiSyncPersistence
import PiSyncStore
import Synchronization
import Testing

/// The first time something happened.
final class Moment: Sendable {
    private let first = Mutex<ContinuousClock.Instant?>(nil)
    var instant: ContinuousClock.Instant? { first.withLock { $0 } }
    func mark() { first.withLock { $0 = $0 ?? .now } }
}

@Suite("Write-ahead log disk faults")
struct DiskFaultTests {
    enum Fault: String, CaseIterable, CustomTestStringConvertible {
        case write, sync, both
        var testDescription: String { rawValue }
    }

    /// Eleven records, sequence numbers 1...11.
    static let calls = workload(calls: 11, devices: 3)

    func open(_ directory: String, _ fileSystem: FaultInjectingFileSystem, segmentBytes: Int = 16 << 20) throws -> LoggedStore {
        try LoggedStore(directory, fileSystem: fileSystem) {
            $0.retryInterval = .milliseconds(20)
            $0.segmentBytes = segmentBytes
        }
    }

    /// Records `call` and waits for the log's answer.
    func record(_ call: [SyncEvent], into logged: LoggedStore) async -> Result<Void, StorageIOError> {
        logged.store.record(call, now: testNow)
        return await logged.log.durability(of: logged.log.appendedSequence)
    }

    /// The directory read back as after a crash: it must not throw; returns the sequence
    /// numbers of its whole records (each segment's) and the torn tail.
    func readBack(_ directory: String) throws -> (sequences: [UInt64], scan: LogScan) {
        let (scan, _) = try scanLog(directory)
        let sequences = try segmentPaths(in: directory).flatMap { framedRecords(in: try readBytes($0)).map(sequenceNumber) }
        return (sequences, scan)
    }

    /// After the log closed: every record exactly once, in order, whole, and a recovered store
    /// equal to one that recorded `calls`.
    func expectClean(_ directory: String, records count: Int, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let (sequences, scan) = try readBack(directory)
        #expect(scan.tornTail == nil, "\(String(describing: scan.tornTail))", sourceLocation: sourceLocation)
        #expect(sequences == Array(1...UInt64(count)), sourceLocation: sourceLocation)
        for path in try segmentPaths(in: directory) {
            let bytes = try readBytes(path)
            #expect((framedRecords(in: bytes).last?.end ?? 16) == bytes.count, "trailing bytes in \(path)", sourceLocation: sourceLocation)
        }
        let recovered = try LoggedStore(directory)
        #expect(recovered.store.observableState == referenceState(Array(Self.calls.prefix(count))), sourceLocation: sourceLocation)
        await recovered.log.close()
    }

    @Test("while the disk fails, waiters get the error; once it works again the log heals by itself", arguments: Fault.allCases)
    func failAndHeal(fault: Fault) async throws {
        try await withAsyncScratch { directory in
            let fileSystem = FaultInjectingFileSystem()
            let logged = try open(directory, fileSystem)
            for call in Self.calls.prefix(5) {
                #expect(try await record(call, into: logged).get() == ())
            }

            fileSystem.failAll(writes: fault != .sync, syncs: fault != .write)
            for call in Self.calls[5..<10] {
                guard case .failure(let error) = await record(call, into: logged) else {
                    Issue.record("a record was acknowledged while the disk fails")
                    continue
                }
                // A write fails with ENOSPC, a sync with EIO; with both, a retry's sync may report EIO.
                #expect(fault == .both ? [5, 28].contains(error.errno) : error.errno == (fault == .sync ? 5 : 28))
            }
            #expect(logged.log.fault != nil)
            #expect(logged.log.durableSequence == 5)
            #expect(logged.log.appendedSequence == 10)
            #expect(await eventually { fileSystem.injectedFailures >= 3 }, "the log retries")
            // A crash now would recover every acknowledged record.
            let during = try readBack(directory)
            #expect(Array(during.sequences.prefix(5)) == Array(1...5))

            // Timed on the writer thread: polling here may wait for a busy test thread pool.
            let healed = Moment()
            logged.log.onDurable { sequence in if sequence >= 10 { healed.mark() } }
            let started = ContinuousClock.now
            fileSystem.failAll()
            #expect(await eventually { logged.log.durableSequence == 10 && logged.log.fault == nil })
            let healTime = try #require(healed.instant) - started
            #expect(healTime < .seconds(2), "healed \(healTime) after the disk did (retry interval 20 ms)")
            #expect(fileSystem.staleDescriptorUses == 0)
            #expect(try await logged.log.durability(of: 10).get() == ())
            // Recording goes on normally.
            #expect(try await record(Self.calls[10], into: logged).get() == ())
            await logged.log.close()
            try await expectClean(directory, records: 11)
        }
    }

    @Test("after a failed fdatasync the unsynced records are rewritten into a fresh segment")
    func fsyncgate() async throws {
        try await withAsyncScratch { directory in
            let fileSystem = FaultInjectingFileSystem()
            let logged = try open(directory, fileSystem)
            for call in Self.calls.prefix(5) { _ = await record(call, into: logged) }
            let first = try #require(try segmentPaths(in: directory).first)
            let durableBytes = try readBytes(first)

            fileSystem.failAll(syncs: true)
            for call in Self.calls[5..<10] {
                if case .success = await record(call, into: logged) { Issue.record("acknowledged without a sync") }
            }
            // The write reached the page cache but its sync failed. The kernel may have dropped
            // the dirty pages, so the records are written again into a fresh segment; the old
            // one is cut back to what was synced only once that is durable.
            #expect(try readBytes(first).starts(with: durableBytes), "the synced part is never touched")

            fileSystem.failAll()
            #expect(await eventually { logged.log.durableSequence == 10 })
            await logged.log.close()
            #expect(try readBytes(first) == durableBytes, "the old segment is cut back to what was synced")
            let segments = try segmentPaths(in: directory)
            #expect(segments == [first, directory + "/wal-00000000000000000006.log"])
            #expect(try framedRecords(in: readBytes(segments[1])).map(sequenceNumber) == Array(6...10))
            try await expectClean(directory, records: 10)
        }
    }

    @Test("a sync failing on a freshly started segment leaves a directory that reads back")
    func faultWhileRolling() async throws {
        try await withAsyncScratch { directory in
            let fileSystem = FaultInjectingFileSystem()
            // Every record fills a segment, so each is followed by a roll to a new one.
            let logged = try open(directory, fileSystem, segmentBytes: 1)
            #expect(try await record(Self.calls[0], into: logged).get() == ())
            let third = directory + "/wal-00000000000000000003.log"
            fileSystem.update { $0.failSync = { path in path >= third } }

            // Record 2 goes to the segment the last roll started, is synced, and the roll after
            // it fails on the new segment.
            #expect(try await record(Self.calls[1], into: logged).get() == ())
            #expect(await eventually { logged.log.fault != nil })
            if case .success = await record(Self.calls[2], into: logged) { Issue.record("acknowledged without a sync") }
            #expect(await eventually { fileSystem.injectedFailures >= 4 })

            // A crash now: the directory must read back, with both acknowledged records.
            let during = try readBack(directory)
            #expect(Array(during.sequences.prefix(2)) == [1, 2])

            fileSystem.failAll()
            #expect(await eventually { logged.log.durableSequence == 3 && logged.log.fault == nil })
            #expect(fileSystem.staleDescriptorUses == 0)
            await logged.log.close()
            try await expectClean(directory, records: 3)
        }
    }

    @Test("a segment that cannot be created is retried on a fresh descriptor, never on the closed one")
    func openFailsWhileRolling() async throws {
        try await withAsyncScratch { directory in
            let fileSystem = FaultInjectingFileSystem()
            let logged = try open(directory, fileSystem, segmentBytes: 1)
            #expect(try await record(Self.calls[0], into: logged).get() == ())
            let third = directory + "/wal-00000000000000000003.log"
            fileSystem.update { $0.failOpen = { path in path >= third } }

            // The roll after record 2 closes its segment and cannot open the next one.
            #expect(try await record(Self.calls[1], into: logged).get() == ())
            #expect(await eventually { logged.log.fault != nil })
            if case .success = await record(Self.calls[2], into: logged) { Issue.record("acknowledged without a write") }
            #expect(await eventually { fileSystem.injectedFailures >= 4 })
            #expect(Array(try readBack(directory).sequences.prefix(2)) == [1, 2])

            fileSystem.failAll()
            #expect(await eventually { logged.log.durableSequence == 3 && logged.log.fault == nil })
            #expect(fileSystem.staleDescriptorUses == 0)
            await logged.log.close()
            try await expectClean(directory, records: 3)
        }
    }

    @Test("closing while the disk fails returns, and every acknowledged record survives", arguments: Fault.allCases)
    func closeWhileFailing(fault: Fault) async throws {
        try await withAsyncScratch { directory in
            let fileSystem = FaultInjectingFileSystem()
            let logged = try open(directory, fileSystem)
            for call in Self.calls.prefix(4) { _ = await record(call, into: logged) }
            fileSystem.failAll(writes: fault != .sync, syncs: fault != .write)
            _ = await record(Self.calls[4], into: logged)
            await logged.log.close()
            fileSystem.failAll()

            // The record never acknowledged may be lost (or, written but unsynced, survive in
            // the page cache); a torn tail may be left.
            let (sequences, _) = try readBack(directory)
            #expect(Array(sequences.prefix(4)) == [1, 2, 3, 4])
            let recovered = try LoggedStore(directory)
            #expect([4, 5].contains(recovered.report.lastSequence))
            let state = recovered.store.observableState
            #expect(state == referenceState(Array(Self.calls.prefix(Int(recovered.report.lastSequence)))))
            await recovered.log.close()
        }
    }
}
