import Logging
import NIOPosix
import PiSyncPersistence
import PiSyncStore
import ServiceLifecycle

/// Writes the store's snapshot every `interval` when anything changed, as soon as the log has
/// grown by `logBytes` since the last one, and once more on graceful shutdown; then deletes
/// the log segments the snapshot covers. On shutdown it closes the log last.
///
/// With retention on (an ``Archiver``), every `interval` it also moves the events the policy no
/// longer keeps in memory to the archive, then writes a snapshot at once, which commits the
/// pass (off the request path: on NIO's blocking-I/O pool, like the snapshot).
///
/// Run it before the server in a `ServiceGroup`: services shut down in reverse order, so the
/// final snapshot is taken after the server has drained its connections.
public struct SnapshotService: Service {
    private let store: SyncStore
    private let log: WriteAheadLog
    private let file: SnapshotFile
    private let interval: Duration
    private let logBytes: Int
    private let logger: Logger
    private let clock: ServerClock
    private let metrics: ServerMetrics
    private let archiver: Archiver?

    /// Creates the service; it writes to `file` and times each snapshot in `metrics`.
    public init(
        store: SyncStore, log: WriteAheadLog, file: SnapshotFile, interval: Duration, logBytes: Int, logger: Logger,
        clock: ServerClock = ServerClock(), metrics: ServerMetrics = .disabled, archiver: Archiver? = nil
    ) {
        self.metrics = metrics
        self.store = store
        self.log = log
        self.file = file
        self.interval = interval
        self.logBytes = logBytes
        self.logger = logger
        self.clock = clock
        self.archiver = archiver
    }

    public func run() async throws {
        var lastChanges = store.changeCount
        var lastBytes = log.bytesAppended
        var lastTaken = ContinuousClock.now
        var lastPass = ContinuousClock.now
        var passDue = false
        var snapshotOwed = false  // a pass moved events: its snapshot commits it
        let tick = min(interval, .milliseconds(100))
        while !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: tick) }
            } catch {
                break  // graceful shutdown (or cancellation): take the final snapshot below
            }
            if archiver != nil, ContinuousClock.now - lastPass >= interval || passDue {
                lastPass = .now
                let moved = await archivePass()
                // A full pass leaves more due: the next runs once its snapshot committed it.
                passDue = moved >= (archiver?.limit ?? .max) || (passDue && snapshotOwed)
                snapshotOwed = snapshotOwed || moved > 0
            }
            let changes = store.changeCount
            let bytes = log.bytesAppended
            let due = (changes != lastChanges && ContinuousClock.now - lastTaken >= interval)
                || bytes - lastBytes >= UInt64(logBytes)
                || (snapshotOwed && ContinuousClock.now - lastTaken >= .seconds(1))
            guard due else { continue }
            do {
                try await write()
                (lastChanges, lastBytes, lastTaken, snapshotOwed) = (changes, bytes, .now, false)
            } catch {
                logger.error("snapshot failed; will retry", metadata: ["error": "\(error)"])
                lastTaken = .now
            }
        }
        do {
            try await write()
            logger.info("final snapshot written", metadata: ["path": "\(file.path)"])
        } catch {
            logger.error("final snapshot failed; the log keeps every event", metadata: ["error": "\(error)"])
        }
        await log.close()
    }

    /// Runs one retention pass; returns the events it moved.
    private func archivePass() async -> Int {
        guard let archiver else { return 0 }
        let now = clock.nowMillis()
        do {
            let moved = try await NIOThreadPool.singleton.runIfActive { try archiver.pass(now: now) }
            if moved > 0 { logger.debug("archived events", metadata: ["events": "\(moved)"]) }
            return moved
        } catch {
            logger.error("archive pass failed; the events stay in memory", metadata: ["error": "\(error)"])
            return 0
        }
    }

    /// Writes a snapshot on NIO's blocking-I/O thread pool and deletes the log segments it
    /// covers; then commits a pending retention pass, which the snapshot no longer holds.
    public func write() async throws {
        let (store, log, file, logger, metrics, archiver) = (store, log, file, logger, metrics, archiver)
        let takenAt = clock.nowMillis()
        try await NIOThreadPool.singleton.runIfActive {
            let started = ContinuousClock.now
            let summary = try file.write(store, logSequence: log.appendedSequence, takenAt: takenAt) { () throws(StorageIOError) in
                // Everything the snapshot copied (events, and alerts numbered with them) was
                // appended by now: wait until the log holds it durably, or a crash could leave
                // the snapshot with an alert whose cause the log lost (raised again on retry).
                try log.waitUntilDurable(log.appendedSequence)
            }
            let (seconds, attoseconds) = (ContinuousClock.now - started).components
            metrics.snapshotDuration.recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
            metrics.snapshotSize.record(summary.bytes)
            let removed = try log.removeSegments(coveredBy: summary.logSequence)
            try archiver?.commit()
            logger.debug(
                "snapshot written",
                metadata: [
                    "events": "\(summary.events)", "devices": "\(summary.devices)", "bytes": "\(summary.bytes)",
                    "log_sequence": "\(summary.logSequence)", "segments_deleted": "\(removed.count)",
                    "duration": "\(ContinuousClock.now - started)",
                ])
        }
    }
}
