import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PiSyncPersistence
import PiSyncProtocol
import PiSyncStore
import ServiceLifecycle
import Synchronization

/// The PiSync TCP server, run as a `Service`: it listens, serves each connection, and on
/// graceful shutdown stops accepting, ends subscriptions with UNAVAILABLE and lets every
/// connection drain before `run()` returns.
public final class PiSyncServer: Service, Sendable {
    private enum State {
        case idle
        case running(listener: any Channel)
        case shuttingDown
        case stopped
    }

    /// The store the server records into.
    public let store: SyncStore
    /// The bus the store's alerts reach subscribers through.
    public let bus: AlertBus
    /// Readiness, as Ping and the admin port's `/readyz` report it.
    public let health: ServerHealth
    private let configuration: ServerConfiguration
    let dispatcher: RequestDispatcher
    private let logger: Logger
    private let group: any EventLoopGroup
    private let state = Mutex(State.idle)
    private let connections = Mutex(OpenConnections())
    private let authFailures: RateLimiter?
    private let listening: EventLoopPromise<SocketAddress>
    private let nextConnectionID = Atomic<UInt64>(0)

    /// Creates a server for `store`, publishing alerts through `bus`. With a `log` (the store's
    /// journal), responses wait until what they depend on is durable in it. Requests are
    /// counted in `metrics`; readiness is kept in `health` (a new one when not given).
    public init(
        configuration: ServerConfiguration, store: SyncStore, bus: AlertBus, log: WriteAheadLog? = nil,
        logger: Logger, clock: ServerClock = ServerClock(),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        metrics: ServerMetrics = .disabled, health: ServerHealth = ServerHealth()
    ) {
        self.configuration = configuration
        var dispatcher = Self.makeDispatcher(configuration: configuration, store: store, log: log, clock: clock)
        dispatcher.metrics = metrics
        dispatcher.health = health
        if let log { health.watch(log) }
        self.dispatcher = dispatcher
        self.health = health
        self.authFailures = Self.makeAuthFailureLimiter(configuration)
        self.store = store
        self.bus = bus
        self.logger = logger
        self.group = group
        self.listening = group.next().makePromise(of: SocketAddress.self)
    }

    /// Creates a server with a new, empty in-memory store (tests, benchmarks).
    public convenience init(
        configuration: ServerConfiguration, logger: Logger, clock: ServerClock = ServerClock(),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        let bus = AlertBus(history: configuration.alertHistory)
        let store = SyncStore(configuration: configuration.storeConfiguration, onAlert: bus.publish)
        self.init(configuration: configuration, store: store, bus: bus, logger: logger, clock: clock, group: group)
    }

    /// The address the server listens on, once it does (useful with port 0).
    public var localAddress: SocketAddress {
        get async throws { try await listening.futureResult.get() }
    }

    /// Connections open right now.
    public var connectionCount: Int { connections.withLock { $0.count } }

    public func run() async throws {
        let listener: NIOAsyncChannel<any Channel, Never>
        do {
            listener = try await bind()
        } catch {
            listening.fail(error)
            throw error
        }
        let address = listener.channel.localAddress
        state.withLock { $0 = .running(listener: listener.channel) }
        health.enter(.serving)
        if let address { listening.succeed(address) }
        let where_ = address.map { "\($0.ipAddress ?? configuration.host):\($0.port ?? configuration.port)" }
        logger.info(
            "pisync \(ServerInfo.version) listening on \(where_ ?? "?") data_dir=\(configuration.dataDirectory) \(configuration)")

        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { tasks in
                try await listener.executeThenClose { accepted in
                    for try await channel in accepted {
                        tasks.addTask { await self.serve(channel) }
                    }
                }
            }
        } onGracefulShutdown: {
            self.beginShutdown()
        }
        state.withLock { $0 = .stopped }
        health.enter(.stopped)
        logger.info("server stopped")
    }

    private func bind() async throws -> NIOAsyncChannel<any Channel, Never> {
        try ProtectedMode.check(configuration)
        let tls = try configuration.tls?.makeContext()
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 256)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(
                .writeBufferWaterMark,
                value: .init(low: configuration.connectionWriteBuffer / 2, high: configuration.connectionWriteBuffer))
            .bind(host: configuration.host, port: configuration.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try self.configure(channel, tls: tls)
                    return channel
                }
            }
    }

    /// Sets up a new connection's pipeline, or turns it away when the server is full or closing.
    private func configure(_ channel: any Channel, tls: NIOSSLContext?) throws {
        let peer = OpenConnections.peerKey(channel.remoteAddress)
        let refusal = connections.withLock { connections -> String? in
            guard case .running = state.withLock({ $0 }) else { return OpenConnections.shuttingDown }
            return connections.admit(
                channel, peer: peer, limit: configuration.maxConnections, perPeerLimit: configuration.maxConnectionsPerPeer)
        }
        if let refusal {
            // In plain TCP even on a TLS port: a TLS handler would hold the notice until a
            // handshake that a flood never makes, and the turned-away connection would stay.
            // A TLS client sees its handshake fail at once.
            try channel.pipeline.syncOperations.addHandler(
                ConnectionRejecter(message: refusal, closeTimeout: TimeAmount(configuration.closeTimeout)))
            return
        }
        if let tls {
            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls))
        }
        channel.closeFuture.whenComplete { _ in
            self.connections.withLock { $0.remove(channel, peer: peer) }
        }
        var connectionLogger = logger
        connectionLogger[metadataKey: "connection"] = "\(nextConnectionID.add(1, ordering: .relaxed).newValue)"
        connectionLogger[metadataKey: "peer"] = "\(channel.remoteAddress.map { "\($0)" } ?? "?")"
        try Self.addConnectionHandlers(
            to: channel, configuration: configuration, dispatcher: dispatcher, bus: bus, authFailures: authFailures,
            logger: connectionLogger)
    }

    /// One task per connection: it lives as long as the connection and never throws. The
    /// connection itself is served by its handlers on its event loop; cancelling the server's
    /// task (rather than shutting it down gracefully) closes the connection at once.
    private func serve(_ channel: any Channel) async {
        await withTaskCancellationHandler {
            try? await channel.closeFuture.get()
        } onCancel: {
            channel.close(promise: nil)
        }
    }

    private func beginShutdown() {
        let listener: (any Channel)? = state.withLock { state in
            guard case .running(let listener) = state else { return nil }
            state = .shuttingDown
            return listener
        }
        guard let listener else { return }
        health.enter(.shuttingDown)
        logger.info("shutting down: no new connections; draining \(connectionCount)")
        listener.close(promise: nil)
        let open = connections.withLock { $0.channels }
        for channel in open {
            channel.pipeline.fireUserInboundEventTriggered(ServerShutdownEvent())
        }
        group.next().scheduleTask(in: TimeAmount(configuration.shutdownGracePeriod)) {
            for channel in self.connections.withLock({ $0.channels }) {
                channel.close(promise: nil)
            }
        }
    }
}
