import Foundation
import Logging
import PiSyncAuth
import PiSyncClient
import PiSyncPersistence
import PiSyncProtocol
import PiSyncServer
import ServiceLifecycle

/// A whole persisting PiSync server on a data directory (alert threshold 2), for the span of a
/// body, with calls that raise alerts and recoveries through a real client.
struct AlertSource {
    let application: PiSyncApplication
    let port: Int
    let client: PiSyncClient
    /// Ten minutes ago: events are recorded a second apart from here.
    static let base = Int64(Date().timeIntervalSince1970 * 1000) - 600_000

    /// Runs a server on `dataDirectory` (and `port`, 0 for any) for the span of `body`.
    /// With `secrets`, auth is on and the source's own client holds an operator token.
    static func with<T>(
        dataDirectory: String, port: Int = 0, alertHistory: Int = 10_000, secrets: AuthSecrets? = nil,
        _ body: (AlertSource) async throws -> T
    ) async throws -> T {
        var configuration = ServerConfiguration()
        configuration.port = port
        configuration.dataDirectory = dataDirectory
        configuration.alertThreshold = 2
        configuration.alertHistory = alertHistory
        configuration.shutdownGracePeriod = .seconds(2)
        configuration.authSecrets = secrets
        let logger = Logger(label: "alert-source", factory: { _ in SwiftLogNoOpLogHandler() })
        let application = try await open(configuration, logger: logger)
        let group = ServiceGroup(services: application.services, logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let result: Result<T, any Error>
            do {
                let port = try await application.server.localAddress.port ?? 0
                let client = try await PiSyncClient.connect(host: "127.0.0.1", port: port)
                defer { client.close() }
                if let secrets { try await client.authenticate(token: secrets.mint(role: .operator_, name: "tests")) }
                result = .success(try await body(AlertSource(application: application, port: port, client: client)))
            } catch {
                result = .failure(error)
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return try result.get()
        }
    }

    /// Opens the application, waiting (up to 10 s) while the data directory's lock is held: a
    /// process this test binary is spawning shares the lock's open file from its fork until its
    /// exec closes it, so a restart in the same test can find it briefly held.
    private static func open(_ configuration: ServerConfiguration, logger: Logger) async throws -> PiSyncApplication {
        let deadline = ContinuousClock.now + .seconds(10)
        while true {
            do {
                return try PiSyncApplication(configuration: configuration, logger: logger)
            } catch DataDirectoryLockError.held where ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    /// Records two failed syncs of `device` at seconds `second` and `second + 1` after
    /// ``base``: one alert, and waits until the server has numbered it `sequence`.
    func fail(_ device: String, at second: Int64, expecting sequence: UInt64) async throws {
        let events = (0..<2).map { offset in
            Pisync_V1_SyncEvent.with {
                $0.timestamp = Self.base + (second + Int64(offset)) * 1000
                $0.totalErrors = 1
            }
        }
        _ = try await client.recordSync(deviceID: device, events: events)
        try await waitForSequence(sequence)
    }

    /// Records a successful sync of `device` at `second`: a recovery numbered `sequence`.
    func recover(_ device: String, at second: Int64, expecting sequence: UInt64) async throws {
        _ = try await client.recordSync(deviceID: device, events: [
            .with { $0.timestamp = Self.base + second * 1000; $0.totalFilesSynced = 5; $0.internetSpeed = 2 }
        ])
        try await waitForSequence(sequence)
    }

    private func waitForSequence(_ sequence: UInt64) async throws {
        let deadline = ContinuousClock.now + .seconds(20)
        while application.store.currentAlertSequence < sequence {
            guard ContinuousClock.now < deadline else { throw RelayTestError("the server never reached alert #\(sequence)") }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}

/// A test precondition that did not come about.
struct RelayTestError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
