import Logging
import NIOCore
import NIOPosix
import PiSyncClient
import PiSyncServer
import PiSyncStore
import ServiceLifecycle

/// A real PiSync server on 127.0.0.1 port 0, run in a `ServiceGroup` for the span of `body`.
struct TestServer {
    let server: PiSyncServer
    let store: SyncStore
    let bus: AlertBus
    let port: Int

    /// Starts a server with `configure` applied to the defaults, runs `body`, then shuts the
    /// server down gracefully.
    static func with<T>(
        _ configure: (inout ServerConfiguration) -> Void = { _ in },
        clock: ServerClock = ServerClock(),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        _ body: (TestServer) async throws -> T
    ) async throws -> T {
        var configuration = ServerConfiguration()
        configuration.port = 0
        configuration.shutdownGracePeriod = .seconds(2)
        configure(&configuration)
        let logger = Logger(label: "pisync-test", factory: { _ in SwiftLogNoOpLogHandler() })
        let server = PiSyncServer(configuration: configuration, logger: logger, clock: clock, group: group)
        let group = ServiceGroup(services: [server], logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            // Whatever the body does, shut the server down gracefully and wait for it, so a
            // failing test fails instead of leaving connections (and the test) hanging.
            let result = await Result(catching: { () async throws -> T in
                let address = try await server.localAddress
                return try await body(TestServer(server: server, store: server.store, bus: server.bus, port: address.port ?? 0))
            })
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return try result.get()
        }
    }

    /// A client connected to this server.
    func client() async throws -> PiSyncClient {
        try await PiSyncClient.connect(host: "127.0.0.1", port: port)
    }
}

extension Result where Failure == any Error {
    /// Runs `body` and captures its outcome.
    init(catching body: () async throws -> Success) async {
        do {
            self = .success(try await body())
        } catch {
            self = .failure(error)
        }
    }
}

/// Polls `condition` every 10 ms until it holds or `timeout` passes; returns whether it held.
func eventually(timeout: Duration = .seconds(5), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return try await condition()
}
