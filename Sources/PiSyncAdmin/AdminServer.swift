import Hummingbird
import Logging
import NIOCore
import NIOPosix
import PiSyncAuth
import PiSyncServer
import ServiceLifecycle
import Synchronization

/// The admin HTTP port, run as a `Service` beside the server's ``ApplicationLauncher``:
/// `/metrics` (Prometheus text), `/healthz` and `/readyz` (JSON), and whatever routes
/// `additionalRoutes` mounts (the REST gateway), all behind the same auth.
///
/// Start it before the launcher in the `ServiceGroup`: it is up while the data directory is
/// recovered (`/readyz` says so), and, shut down in reverse order, it outlives the server's
/// drain (`/readyz` says "shutting down").
public final class AdminServer: Service, Sendable {
    private enum State {
        case idle
        case starting
        case running(SocketAddress)
        case stopped
    }

    /// The path Prometheus scrapes; open to loopback peers even with auth on.
    public static let metricsPath = "/metrics"

    /// Where the port listens.
    public let configuration: AdminConfiguration
    private let launcher: ApplicationLauncher
    private let metrics: AdminMetrics
    private let authSecrets: AuthSecrets?
    private let logger: Logger
    private let additionalRoutes: @Sendable (Router<AdminRequestContext>) -> Void
    private let state = Mutex(State.idle)
    private let listening: EventLoopPromise<SocketAddress>

    /// An admin port for the server `launcher` runs, rendering `metrics` (whose
    /// ``AdminMetrics/server`` the launcher records into). With `authSecrets` (the server's,
    /// when auth is on), requests need an operator token, as ``AdminAuthMiddleware`` says.
    /// `additionalRoutes` adds routes after the built-in ones, behind the same auth.
    public init(
        configuration: AdminConfiguration, launcher: ApplicationLauncher, metrics: AdminMetrics,
        authSecrets: AuthSecrets?, logger: Logger,
        additionalRoutes: @escaping @Sendable (Router<AdminRequestContext>) -> Void = { _ in }
    ) {
        self.configuration = configuration
        self.launcher = launcher
        self.metrics = metrics
        self.authSecrets = authSecrets
        var logger = logger
        logger[metadataKey: "component"] = "admin"
        self.logger = logger
        self.additionalRoutes = additionalRoutes
        self.listening = MultiThreadedEventLoopGroup.singleton.next().makePromise(of: SocketAddress.self)
    }

    /// The address the port listens on, once it does (useful with port 0).
    public var localAddress: SocketAddress {
        get async throws { try await listening.futureResult.get() }
    }

    public func run() async throws {
        state.withLock { $0 = .starting }
        let application = Application(
            router: makeRouter(),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
            onServerRunning: { [self] channel in self.started(channel) },
            logger: logger)
        do {
            try await application.run()
        } catch {
            listening.fail(error)
            state.withLock { $0 = .stopped }
            logger.error("admin port failed: \(error)")
            throw error
        }
        let listened = state.withLock { state -> Bool in
            defer { state = .stopped }
            if case .running = state { return true }
            return false
        }
        if !listened { listening.fail(CancellationError()) }  // shut down before it listened
        logger.info("admin port stopped")
    }

    private func started(_ channel: any Channel) {
        guard let address = channel.localAddress else { return }
        state.withLock { $0 = .running(address) }
        listening.succeed(address)
        logger.info(
            "admin port listening on http://\(address.ipAddress ?? configuration.host):\(address.port ?? configuration.port) auth=\(authSecrets == nil ? "off" : "on(operator tokens; /metrics open on loopback)")")
    }

    private func makeRouter() -> Router<AdminRequestContext> {
        let router = Router(context: AdminRequestContext.self)
        if let authSecrets {
            router.add(middleware: AdminAuthMiddleware(secrets: authSecrets))
        }
        let (launcher, metrics) = (launcher, metrics)
        router.get(RouterPath(stringLiteral: Self.metricsPath)) { _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: metrics.render(launcher))))
        }
        router.get("/healthz") { _, _ in
            HealthReport(launcher.health.status, status: "serving")
        }
        router.get("/readyz") { _, _ -> EditedResponse<HealthReport> in
            let status = launcher.health.status
            return EditedResponse(
                status: status.ready ? .ok : .serviceUnavailable,
                response: HealthReport(status, status: status.ready ? "ready" : "not_ready"))
        }
        additionalRoutes(router)
        return router
    }
}
