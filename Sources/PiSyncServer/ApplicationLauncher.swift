import Logging
import NIOCore
import NIOPosix
import PiSyncPersistence
import ServiceLifecycle
import Synchronization

/// Recovers the data directory and then runs the ``PiSyncApplication``, as one `Service`.
///
/// `PiSyncApplication.init` recovers synchronously; run through this, the recovery happens
/// inside `run()` on NIO's blocking-I/O pool, so that services started beside it in the same
/// `ServiceGroup` (the admin HTTP port) are already up and report "recovering" meanwhile.
/// Graceful shutdown reaches the application's own services through the nested group.
public final class ApplicationLauncher: Service, Sendable {
    private enum State {
        case idle
        case recovering
        case running(PiSyncApplication)
        case failed
    }

    /// Readiness: "recovering" until the application is built, then the application's.
    public let health: ServerHealth
    /// The instruments the application records into.
    public let metrics: ServerMetrics
    private let configuration: ServerConfiguration
    private let logger: Logger
    private let fileSystem: any StorageFileSystem
    private let clock: ServerClock
    private let group: any EventLoopGroup
    private let state = Mutex(State.idle)
    private let recovered: EventLoopPromise<PiSyncApplication>

    /// A launcher for a server with `configuration`; nothing is read until `run()`.
    public init(
        configuration: ServerConfiguration, logger: Logger, fileSystem: any StorageFileSystem = PosixFileSystem(),
        clock: ServerClock = ServerClock(), group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        metrics: ServerMetrics = .disabled, health: ServerHealth = ServerHealth()
    ) {
        self.configuration = configuration
        self.logger = logger
        self.fileSystem = fileSystem
        self.clock = clock
        self.group = group
        self.metrics = metrics
        self.health = health
        self.recovered = group.next().makePromise(of: PiSyncApplication.self)
    }

    /// The application once recovery is done; `nil` before, or when it failed.
    public var application: PiSyncApplication? {
        state.withLock { state in
            if case .running(let application) = state { return application }
            return nil
        }
    }

    /// Whether recovery failed (`run()` then threw its error).
    public var recoveryFailed: Bool {
        state.withLock { state in
            if case .failed = state { return true }
            return false
        }
    }

    /// Waits for recovery: the application, or the error recovery failed with.
    public var recoveredApplication: PiSyncApplication {
        get async throws { try await recovered.futureResult.get() }
    }

    public func run() async throws {
        state.withLock { $0 = .recovering }
        health.enter(.recovering)
        let application: PiSyncApplication
        do {
            let (configuration, logger, fileSystem, clock, group, metrics, health) =
                (configuration, logger, fileSystem, clock, group, metrics, health)
            application = try await NIOThreadPool.singleton.runIfActive {
                try PiSyncApplication(
                    configuration: configuration, logger: logger, fileSystem: fileSystem, clock: clock, group: group,
                    metrics: metrics, health: health)
            }
        } catch {
            state.withLock { $0 = .failed }
            health.failed("\(error)")
            recovered.fail(error)
            throw error
        }
        state.withLock { $0 = .running(application) }
        recovered.succeed(application)
        // A nested group follows the enclosing group's graceful shutdown (ServiceLifecycle
        // passes it to groups run inside a service), in the application's own order.
        let services = ServiceGroup(
            configuration: .init(services: application.services.map { .init(service: $0) }, logger: logger))
        try await services.run()
    }
}
