import Logging
import NIOCore
import NIOPosix
import PiSyncPersistence
import PiSyncStore
import ServiceLifecycle
import UnixSignals

/// A whole PiSync server, assembled from a configuration: it recovers the data directory,
/// builds the store with its write-ahead log, the alert bus, the server and the snapshot
/// service, and wires store → log → bus.
///
/// `pisync serve` runs one; tests build the same on a temporary directory.
public struct PiSyncApplication: Sendable {
    /// The recovered store.
    public let store: SyncStore
    /// The bus alerts reach subscribers through.
    public let bus: AlertBus
    /// The write-ahead log the store journals into.
    public let log: WriteAheadLog
    /// The TCP server.
    public let server: PiSyncServer
    /// The snapshot writer (which closes the log on shutdown).
    public let snapshots: SnapshotService
    /// What recovery loaded.
    public let recovery: RecoveryReport
    /// Readiness, for Ping and the admin port.
    public let health: ServerHealth
    /// The instruments the services record into.
    public let metrics: ServerMetrics
    private let logger: Logger
    private let lock: DataDirectoryLock

    /// Recovers `configuration.dataDirectory` and builds the services.
    /// - Throws: ``DataDirectoryLockError`` when another process uses the directory;
    ///   ``SnapshotError`` or ``WriteAheadLogError`` when it cannot be recovered (damage, a
    ///   newer format, an I/O error).
    /// Everything is counted in `metrics`; `health` says "recovering" until this returns.
    public init(
        configuration: ServerConfiguration, logger: Logger, fileSystem: any StorageFileSystem = PosixFileSystem(),
        clock: ServerClock = ServerClock(), group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        metrics: ServerMetrics = .disabled, health: ServerHealth = ServerHealth()
    ) throws {
        health.enter(.recovering)
        let lock = try DataDirectoryLock(directory: configuration.dataDirectory)
        let bus = AlertBus(history: configuration.alertHistory, metrics: metrics)
        var logConfiguration = configuration.logConfiguration
        logConfiguration.metrics = metrics.log
        let log = WriteAheadLog(configuration: logConfiguration, fileSystem: fileSystem)
        let gate = DurableAlertGate(log: log, bus: bus)
        log.onDurable { gate.release(upTo: $0) }
        let store = SyncStore(configuration: configuration.storeConfiguration, journal: log, onAlert: gate.publish)
        let directory = DataDirectory(path: configuration.dataDirectory, fileSystem: fileSystem)
        let recovery = try directory.recover(into: store, log: log)
        if let torn = recovery.tornTail {
            logger.warning(
                "dropped a log record cut short by a crash: \(torn.bytesDropped) bytes at offset \(torn.offset) of \(torn.path)")
        }
        logger.info("recovered \(configuration.dataDirectory): \(recovery)")
        let history = store.alertHistory
        bus.seed(history: history.alerts, lastSequence: history.lastSequence)
        health.watch(log)
        health.enter(.recovered)
        self.health = health
        self.metrics = metrics
        self.lock = lock
        self.store = store
        self.bus = bus
        self.log = log
        self.recovery = recovery
        self.logger = logger
        self.server = PiSyncServer(
            configuration: configuration, store: store, bus: bus, log: log, logger: logger, clock: clock, group: group,
            metrics: metrics, health: health)
        self.snapshots = SnapshotService(
            store: store, log: log, file: directory.snapshot, interval: configuration.snapshotInterval,
            logBytes: configuration.snapshotLogBytes, logger: logger, clock: clock, metrics: metrics,
            archiver: configuration.retention.isEnabled
                ? Archiver(store: store, archive: directory.archive, policy: configuration.retention) : nil)
    }

    /// The services in start order: the snapshot service before the server, so that it stops
    /// after the server has drained and takes the final snapshot.
    public var services: [any Service] { [snapshots, server] }

    /// Runs until one of `signals` (or a service ends).
    public func run(gracefulShutdownSignals signals: [UnixSignal] = [.sigterm, .sigint]) async throws {
        let group = ServiceGroup(
            configuration: .init(
                services: services.map { .init(service: $0) }, gracefulShutdownSignals: signals, logger: logger))
        try await group.run()
    }
}
