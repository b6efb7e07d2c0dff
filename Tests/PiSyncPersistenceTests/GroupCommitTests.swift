import PiSyncTestSupport
import Foundation
import PiSyncPersistence
import PiSyncStore
import Testing

@Suite("Write-ahead log group commit")
struct GroupCommitTests {
    static let tasks = 8
    static let appendsPerTask = 500

    /// Opens a log on `fileSystem` in `directory` (no store: the tests append directly).
    func openLog(_ directory: String, _ fileSystem: FaultInjectingFileSystem, policy: FsyncPolicy) throws -> WriteAheadLog {
        var configuration = WriteAheadLog.Configuration(directory: directory)
        configuration.fsync = policy
        configuration.fsyncInterval = .milliseconds(50)
        let log = WriteAheadLog(configuration: configuration, fileSystem: fileSystem)
        _ = try DataDirectory(path: directory, fileSystem: fileSystem).recover(into: SyncStore(), log: log)
        return log
    }

    /// `tasks` concurrent appenders, each waiting for its record to be durable before the
    /// next; returns the number of appends that were not acknowledged.
    func appendConcurrently(to log: WriteAheadLog) async -> Int {
        await withTaskGroup(of: Int.self) { group in
            for task in 0..<Self.tasks {
                group.addTask {
                    var failures = 0
                    for index in 0..<Self.appendsPerTask {
                        log.append([event("task-\(task)", .success, at: Int64(index))], alerts: [])
                        // Another task may have appended since: waiting for the later number
                        // covers this record too.
                        if case .failure = await log.durability(of: log.appendedSequence) { failures += 1 }
                    }
                    return failures
                }
            }
            return await group.reduce(0, +)
        }
    }

    /// Every record once, and each task's events in the order it appended them.
    func expectLogHoldsEveryAppend(_ directory: String, extra: Int = 0, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let appends = Self.tasks * Self.appendsPerTask + extra
        let (scan, records) = try scanLog(directory)
        #expect(scan.tornTail == nil, sourceLocation: sourceLocation)
        #expect(scan.lastSequence == UInt64(appends), sourceLocation: sourceLocation)
        #expect(records.count == appends, sourceLocation: sourceLocation)
        let byTask = Dictionary(grouping: records.flatMap { $0 }, by: \.deviceID)
        for task in 0..<Self.tasks {
            #expect(
                byTask["task-\(task)"]?.map(\.timestamp) == (0..<Self.appendsPerTask).map { t0 + Int64($0) },
                "task \(task)", sourceLocation: sourceLocation)
        }
    }

    // The simulated 1 ms fdatasync (on top of the real one) keeps the test meaningful where
    // syncing is nearly free (tmpfs): while the writer syncs one batch, the appenders it did
    // not cover append the next. Even when the machine is loaded, the continuations the writer
    // resumes queue up and run in a burst once a pool thread gets the CPU, so batches only
    // grow: fewer than one sync per two appends holds with a wide margin (typically ~1 per 4-8).
    @Test("concurrent appenders under fsync always share syncs")
    func groupCommit() async throws {
        try await withAsyncScratch { directory in
            let fileSystem = FaultInjectingFileSystem()
            fileSystem.update { $0.syncDelay = .milliseconds(1) }
            let log = try openLog(directory, fileSystem, policy: .always)
            let syncsBefore = fileSystem.syncs
            let appends = Self.tasks * Self.appendsPerTask

            #expect(await appendConcurrently(to: log) == 0)
            #expect(log.durableSequence == UInt64(appends))
            let syncs = fileSystem.syncs - syncsBefore
            #expect(syncs >= 1)
            #expect(syncs < appends / 2, "\(syncs) syncs for \(appends) appends")
            await log.close()
            try expectLogHoldsEveryAppend(directory)
        }
    }

    @Test("under fsync never, appends are acknowledged once written and never synced")
    func neverSyncs() async throws {
        try await withAsyncScratch { directory in
            let fileSystem = FaultInjectingFileSystem()
            let log = try openLog(directory, fileSystem, policy: .never)
            let syncsBefore = fileSystem.syncs
            #expect(await appendConcurrently(to: log) == 0)
            await log.close()
            #expect(fileSystem.syncs == syncsBefore)
            try expectLogHoldsEveryAppend(directory)
        }
    }

    @Test("under fsync interval, appends are acknowledged once written and synced on the timer")
    func intervalSyncs() async throws {
        try await withAsyncScratch { directory in
            let fileSystem = FaultInjectingFileSystem()
            let log = try openLog(directory, fileSystem, policy: .interval)
            let syncsBefore = fileSystem.syncs
            let started = ContinuousClock.now
            #expect(await appendConcurrently(to: log) == 0)
            let elapsed = ContinuousClock.now - started
            // At most one sync per interval (50 ms) elapsed, plus one for a timer already due.
            let syncs = fileSystem.syncs - syncsBefore
            #expect(syncs <= Int(elapsed / .milliseconds(50)) + 2, "\(syncs) syncs in \(elapsed)")
            // Once quiet, a record written alone is synced by the timer, with no further append.
            try await Task.sleep(for: .milliseconds(200))
            let quiet = fileSystem.syncs
            log.append([event("alone", .success, at: 1)], alerts: [])
            #expect(try await log.durability(of: log.appendedSequence).get() == ())
            #expect(await eventually { fileSystem.syncs > quiet })
            await log.close()
            try expectLogHoldsEveryAppend(directory, extra: 1)
        }
    }
}
