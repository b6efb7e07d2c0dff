import Logging
import NIOPosix
import PiSyncStore
import ServiceLifecycle

/// Writes the store's snapshot every `interval` and once more on graceful shutdown.
///
/// Run it before the server in a `ServiceGroup`: services shut down in reverse order, so the
/// final snapshot is taken after the server has drained its connections.
public struct SnapshotService: Service {
    private let store: SyncStore
    private let file: SnapshotFile
    private let interval: Duration
    private let logger: Logger
    private let clock: ServerClock

    /// Creates the service; it writes to `file`.
    public init(store: SyncStore, file: SnapshotFile, interval: Duration, logger: Logger, clock: ServerClock = ServerClock()) {
        self.store = store
        self.file = file
        self.interval = interval
        self.logger = logger
        self.clock = clock
    }

    public func run() async throws {
        var lastWritten = store.changeCount
        while !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                break  // graceful shutdown (or cancellation): take the final snapshot below
            }
            let changes = store.changeCount
            guard changes != lastWritten else { continue }
            do {
                try await write()
                lastWritten = changes
            } catch {
                logger.error("periodic snapshot failed; will retry", metadata: ["error": "\(error)"])
            }
        }
        try await write()
        logger.info("final snapshot written", metadata: ["path": "\(file.path)"])
    }

    /// Serializes and writes the snapshot on NIO's blocking-I/O thread pool.
    public func write() async throws {
        let store = store
        let file = file
        let takenAt = clock.nowMillis()
        try await NIOThreadPool.singleton.runIfActive {
            try file.write(try store.snapshotBody(takenAt: takenAt))
        }
    }
}
