import ArgumentParser
import Logging
import PiSyncAdmin
import PiSyncPersistence
import PiSyncServer
import ServiceLifecycle

/// `serve`'s admin HTTP port: its settings, and the service group that runs it beside the server.
extension Serve {
    /// `--admin-port`, `--admin-host` and `--rest`, resolved; `nil` when the port is off.
    func resolveAdmin(_ settings: SettingsSource) throws -> AdminConfiguration? {
        let port = try settings.value(adminPort, "ADMIN_PORT")
        let host = try settings.value(adminHost, "ADMIN_HOST").flatMap { $0.isEmpty ? nil : $0 }
        let rest = try settings.value(self.rest ? true : nil, "REST") ?? false
        guard let port else {
            if rest {
                throw ValidationError("--rest serves the REST gateway on the admin port: give --admin-port too (PISYNC_ADMIN_PORT)")
            }
            return nil
        }
        guard (0...65535).contains(port) else {
            throw ValidationError("admin-port \(port) is not between 0 and 65535")
        }
        var configuration = AdminConfiguration(host: host ?? AdminConfiguration.defaultHost, port: port)
        configuration.rest = rest
        return configuration
    }

    /// Runs the server (recovering its data directory first) and, when configured, the admin
    /// port, which starts first so that it reports "recovering" meanwhile, until SIGTERM or
    /// SIGINT. Recovery's own errors are rethrown as they are.
    func serve(_ configuration: ServerConfiguration, admin: AdminConfiguration?, logger: Logger) async throws {
        let metrics = admin.map { _ in AdminMetrics() }
        let launcher = ApplicationLauncher(
            configuration: configuration, logger: logger, metrics: metrics?.server ?? .disabled)
        var services: [any Service] = []
        if let admin, let metrics {
            services.append(
                AdminServer(
                    configuration: admin, launcher: launcher, metrics: metrics, authSecrets: configuration.authSecrets,
                    logger: logger,
                    additionalRoutes: { router in
                        if admin.rest { RESTGateway(launcher: launcher).addRoutes(to: router) }
                    }))
        }
        services.append(launcher)
        let group = ServiceGroup(
            configuration: .init(
                services: services.map { .init(service: $0) }, gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        do {
            try await group.run()
        } catch where launcher.recoveryFailed && !(error is DataDirectoryLockError) && !(error is WriteAheadLogError) {
            logger.critical(
                "cannot recover \(configuration.dataDirectory): \(error); refusing to start (move the file aside to start empty)")
            throw ExitCode(1)
        }
    }
}
