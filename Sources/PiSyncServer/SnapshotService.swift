import Logging
import NIOPosix
import PiSyncPersistence
import PiSyncStore
import ServiceLifecycle

/// Writes the store's snapshot every `interval` when anything changed, as soon as the log has
/// grown by `logBytes` since the last one, and once more on graceful shutdown; then deletes
/// the log segments the snapshot covers. On shutdown it closes the log last.
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

    /// Creates the service; it writes to `file` and times each snapshot in `metrics`.
    public init(
        store: SyncStore, log: WriteAheadLog, file: SnapshotFile, interval: Duration, logBytes: Int, logger: Logger,
        clock: ServerClock = ServerClock(), metrics: ServerMetrics = .disabled
    ) {
        self.metrics = metrics
        self.store = store
        self.log = log
        self.file = file
        self.interval = interval
        self.logBytes = logBytes
        self.logger = logger
        self.clock = clock
    }

    public func run() async throws {
        var lastChanges = store.changeCount
        var lastBytes = log.bytesAppended
        var lastTaken = ContinuousClock.now
        let tick = min(interval, .milliseconds(100))
        while !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: tick) }
            } catch {
                break  // graceful shutdown (or cancellation): take the final snapshot below
            }
            let changes = store.changeCount
            let bytes = log.bytesAppended
            let due = (changes != lastChanges && ContinuousClock.now - lastTaken >= interval)
                || bytes - lastBytes >= UInt64(logBytes)
            guard due else { continue }
            do {
                try await write()
                (lastChanges, lastBytes, lastTaken) = (changes, bytes, .now)
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

    /// Writes a snapshot on NIO's blocking-I/O thread pool and deletes the log segments it covers.
    public func write() async throws {
        let (store, log, file, logger, metrics) = (store, log, file, logger, metrics)
        let takenAt = clock.nowMillis()
        try await NIOThreadPool.singleton.runIfActive {
            let started = ContinuousClock.now
            let summary = try file.write(store, logSequence: log.appendedSequence, takenAt: takenAt)
            let (seconds, attoseconds) = (ContinuousClock.now - started).components
            metrics.snapshotDuration.recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
            metrics.snapshotSize.record(summary.bytes)
            let removed = try log.removeSegments(coveredBy: summary.logSequence)
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
