import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import PiSyncAdmin
import PiSyncAuth
import PiSyncClient
import PiSyncServer
import PiSyncTestSupport
import ServiceLifecycle

/// A whole server as `pisync serve --admin-port 0` runs it, in this process: the admin port
/// and the ``ApplicationLauncher`` in one `ServiceGroup`, on a temporary data directory, with a
/// file system the test controls, for the span of `body`.
struct AdminTestServer {
    let launcher: ApplicationLauncher
    let admin: AdminServer
    let files: ControlledFileSystem
    let dataDirectory: String
    let adminPort: Int
    /// Begins the graceful shutdown (SIGTERM's), without waiting for it.
    let beginShutdown: @Sendable () async -> Void

    /// An HTTP answer: status, headers and body.
    struct Answer {
        var status: Int
        var headers: [String: String]
        var body: String

        /// The body parsed as a JSON object.
        var json: [String: Any] {
            (try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]) ?? [:]
        }
    }

    /// Starts the server (with `holdRecovery`, the data directory's recovery waits until the
    /// test calls `files.releaseListings()`), runs `body`, and shuts it down gracefully.
    static func with<T>(
        dataDirectory: String? = nil, secrets: AuthSecrets? = nil, holdRecovery: Bool = false,
        additionalRoutes: @escaping @Sendable (Router<AdminRequestContext>) -> Void = { _ in },
        _ configure: (inout ServerConfiguration) -> Void = { _ in },
        _ body: (AdminTestServer) async throws -> T
    ) async throws -> T {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("pisync-admin-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        var configuration = ServerConfiguration()
        configuration.port = 0
        configuration.shutdownGracePeriod = .seconds(2)
        configuration.dataDirectory = dataDirectory ?? scratch.appendingPathComponent("data").path
        configuration.authSecrets = secrets
        configuration.fsync = .never
        configure(&configuration)
        let logger = Logger(label: "pisync-admin-test", factory: { _ in SwiftLogNoOpLogHandler() })
        let files = ControlledFileSystem()
        if holdRecovery { files.holdListings() }
        let metrics = AdminMetrics()
        let launcher = ApplicationLauncher(
            configuration: configuration, logger: logger, fileSystem: files, metrics: metrics.server)
        let admin = AdminServer(
            configuration: AdminConfiguration(port: 0), launcher: launcher, metrics: metrics, authSecrets: secrets,
            logger: logger, additionalRoutes: additionalRoutes)
        let group = ServiceGroup(services: [admin, launcher], logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let result: Result<T, any Error>
            do {
                let address = try await admin.localAddress
                let server = AdminTestServer(
                    launcher: launcher, admin: admin, files: files, dataDirectory: configuration.dataDirectory,
                    adminPort: address.port ?? 0, beginShutdown: { await group.triggerGracefulShutdown() })
                result = .success(try await body(server))
            } catch {
                result = .failure(error)
            }
            files.releaseListings()
            files.failWrites(0)
            files.failSyncs(0)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return try result.get()
        }
    }

    /// `GET path` on the admin port, with `Authorization: Bearer token` when given.
    func get(_ path: String, token: String? = nil, authorization: String? = nil) async throws -> Answer {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(adminPort)\(path)")
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let authorization { request.headers.add(name: "Authorization", value: authorization) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 8 << 20)
        var headers: [String: String] = [:]
        for header in response.headers { headers[header.name.lowercased()] = header.value }
        return Answer(status: Int(response.status.code), headers: headers, body: String(buffer: body))
    }

    /// A binary-protocol client of the recovered server.
    func client() async throws -> PiSyncClient {
        let application = try await launcher.recoveredApplication
        let address = try await application.server.localAddress
        return try await PiSyncClient.connect(host: "127.0.0.1", port: address.port ?? 0)
    }

    /// The value of the sample `name{labels}` in `/metrics` (labels as written, sorted by
    /// the registry), or nil when absent.
    func metric(_ name: String, _ labels: String = "", token: String? = nil) async throws -> Double? {
        let text = try await get(AdminServer.metricsPath, token: token).body
        return MetricsText(text).value(name, labels)
    }

    /// Polls `condition` every 20 ms until it holds or `timeout` passes; returns whether it held.
    func waitUntil(timeout: Duration = .seconds(20), _ condition: () async throws -> Bool) async rethrows -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return try await condition()
    }
}
