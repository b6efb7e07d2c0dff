import Foundation
import PiSyncPersistence
import PiSyncStore
import PiSyncTestSupport
import Testing

/// The archive on disk: what a pass writes, that a committed pass survives a restart, and
/// that a crash or a failed write at the seam between archive and memory neither loses nor
/// duplicates an event.
@Suite struct ArchiveTests {
    /// Events of two devices, one every 6 hours from 2026-11-27T00:00Z, across three UTC days.
    static let start: Int64 = 1_795_737_600_000  // 2026-11-27T00:00:00Z
    static let now = start + 20 * 86_400_000
    let policy = RetentionPolicy(retainEventsPerDevice: 2)

    func events(_ device: String, _ range: Range<Int>) -> [SyncEvent] {
        range.map { index in
            SyncEvent(
                deviceID: device, timestamp: Self.start + Int64(index) * 6 * 3_600_000, filesSynced: UInt32(index % 2),
                errors: 1, internetSpeed: Float(index))
        }
    }

    func record(_ logged: LoggedStore, _ range: Range<Int>) async {
        logged.store.record(events("pi-a", range), now: Self.now)
        logged.store.record(events("pi-b", range), now: Self.now)
        await logged.waitUntilDurable()
    }

    func readAll(_ directory: String) throws -> [SyncEvent] {
        var read: [SyncEvent] = []
        try ArchiveReader(dataDirectory: directory).read { read.append($0) }
        return read
    }

    func snapshot(_ logged: LoggedStore, _ directory: String) throws {
        _ = try SnapshotFile(directory: directory).write(logged.store, logSequence: logged.log.appendedSequence, takenAt: 0)
    }

    /// Everything in memory and in the archive, each event once, sorted.
    func union(_ logged: LoggedStore, _ directory: String) throws -> [SyncEvent] {
        let held = (0..<logged.store.shardCount).flatMap { logged.store.devices(inShard: $0) }
            .flatMap { device in device.events.map { $0.event(of: device.deviceID) } }
        return (held + (try readAll(directory))).sorted { ($0.deviceID, $0.timestamp) < ($1.deviceID, $1.timestamp) }
    }

    @Test func aPassWritesOneFilePerUTCDayAndReadsBack() async throws {
        try await withAsyncScratch { directory in
            let logged = try LoggedStore(directory)
            await record(logged, 0..<10)
            let archiver = Archiver(store: logged.store, archive: EventArchive(dataDirectory: directory), policy: policy)
            #expect(try archiver.pass(now: Self.now) == 16)
            let reader = ArchiveReader(dataDirectory: directory)
            #expect(try reader.days().map(\.description) == ["2026-11-27", "2026-11-28"])
            var byDay: [String: [SyncEvent]] = [:]
            for day in try reader.days() {
                try reader.read(day: day) { byDay[day.description, default: []].append($0) }
            }
            #expect(byDay["2026-11-27"] == events("pi-a", 0..<4) + events("pi-b", 0..<4) || byDay["2026-11-27"] == events("pi-b", 0..<4) + events("pi-a", 0..<4))
            var justB: [SyncEvent] = []
            try reader.read(deviceID: "pi-b") { justB.append($0) }
            #expect(justB == events("pi-b", 0..<8))
            let bytes = try readBytes(directory + "/archive/2026-11-27.pisync")
            #expect(Array(bytes[0..<8]) == Array("PISYNCAR".utf8))
            #expect(logged.store.heldEventCount == 4)
            await logged.log.close()
        }
    }

    @Test func aCommittedPassSurvivesARestartWithEveryNumber() async throws {
        try await withAsyncScratch { directory in
            let logged = try LoggedStore(directory)
            await record(logged, 0..<10)
            let archiver = Archiver(store: logged.store, archive: EventArchive(dataDirectory: directory), policy: policy)
            try archiver.pass(now: Self.now)
            try snapshot(logged, directory)
            try archiver.commit()
            #expect(!FileManager.default.fileExists(atPath: directory + "/archive/PENDING"))
            await record(logged, 10..<12)
            let before = logged.store.observableState
            await logged.log.close()

            let restarted = try LoggedStore(directory)
            #expect(restarted.report.archivePassRolledBack == nil)
            #expect(restarted.store.observableState == before)
            #expect(try union(restarted, directory) == (events("pi-a", 0..<12) + events("pi-b", 0..<12)))
            let page = try restarted.store.history(of: "pi-a", page: PageRequest(page: 1, limit: 100))
            #expect(page.total == 12 && page.archived == 8)
            #expect(restarted.store.record(events("pi-a", 3..<4), now: Self.now).duplicates == 1)
            await restarted.log.close()
        }
    }

    @Test(arguments: [false, true])
    func aCrashBeforeTheSnapshotRollsThePassBackAndNothingIsArchivedTwice(afterACommittedPass: Bool) async throws {
        try await withAsyncScratch { directory in
            var logged = try LoggedStore(directory)
            let archive = EventArchive(dataDirectory: directory)
            var committed: [SyncEvent] = []
            if afterACommittedPass {
                await record(logged, 0..<4)
                try Archiver(store: logged.store, archive: archive, policy: policy).pass(now: Self.now)
                try snapshot(logged, directory)
                try Archiver(store: logged.store, archive: archive, policy: policy).commit()
                committed = try readAll(directory)
                #expect(committed.count == 4)
            }
            await record(logged, afterACommittedPass ? 4..<10 : 0..<10)
            let expected = logged.store.observableState.summaries
            try Archiver(store: logged.store, archive: archive, policy: policy).pass(now: Self.now)
            #expect(try readAll(directory).count == 16)
            // kill -9 here: the archive holds the pass, the snapshot and log do not know it.
            await logged.log.close()

            logged = try LoggedStore(directory)
            #expect(logged.report.archivePassRolledBack == (afterACommittedPass ? 2 : 1))
            #expect(try readAll(directory) == committed)
            #expect(logged.store.observableState.summaries == expected)
            let archiver = Archiver(store: logged.store, archive: archive, policy: policy)
            try archiver.pass(now: Self.now)
            try snapshot(logged, directory)
            try archiver.commit()
            let archived = try readAll(directory)
            #expect(archived.count == 16)
            #expect(Set(archived.map { "\($0.deviceID)@\($0.timestamp)" }).count == 16)
            #expect(try union(logged, directory) == events("pi-a", 0..<10) + events("pi-b", 0..<10))
            await logged.log.close()
        }
    }

    @Test func aCrashAfterTheSnapshotKeepsThePass() async throws {
        try await withAsyncScratch { directory in
            let logged = try LoggedStore(directory)
            await record(logged, 0..<10)
            try Archiver(store: logged.store, archive: EventArchive(dataDirectory: directory), policy: policy).pass(now: Self.now)
            try snapshot(logged, directory)
            // kill -9 before PENDING is deleted.
            await logged.log.close()
            let restarted = try LoggedStore(directory)
            #expect(restarted.report.archivePassRolledBack == nil)
            #expect(!FileManager.default.fileExists(atPath: directory + "/archive/PENDING"))
            #expect(try readAll(directory).count == 16)
            #expect(try union(restarted, directory) == events("pi-a", 0..<10) + events("pi-b", 0..<10))
            await restarted.log.close()
        }
    }

    @Test func aFailedArchiveWriteLeavesMemoryAndArchiveAsTheyWere() async throws {
        try await withAsyncScratch { directory in
            let files = FaultInjectingFileSystem()
            let logged = try LoggedStore(directory, fileSystem: files)
            await record(logged, 0..<10)
            let archive = EventArchive(dataDirectory: directory, fileSystem: files)
            let archiver = Archiver(store: logged.store, archive: archive, policy: policy)
            // The second day's file fails half-way (a full disk).
            files.update { $0.failWrite = { $0.hasSuffix("2026-11-28.pisync") } }
            #expect(throws: StorageIOError.self) { try archiver.pass(now: Self.now) }
            #expect(logged.store.heldEventCount == 20)
            #expect(try readAll(directory).isEmpty)
            #expect(archive.pendingCycle() == nil)
            files.update { $0.failWrite = nil }
            #expect(try archiver.pass(now: Self.now) == 16)
            #expect(try union(logged, directory) == events("pi-a", 0..<10) + events("pi-b", 0..<10))
            await logged.log.close()
        }
    }
}
