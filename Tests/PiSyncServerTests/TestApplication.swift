import Foundation
import Logging
import NIOPosix
import NIOCore
import PiSyncClient
import PiSyncPersistence
import PiSyncServer
import PiSyncTestSupport
import ServiceLifecycle
import PiSyncTestSupport

/// A whole persisting PiSync server (``PiSyncApplication``) on a temporary data directory and
/// port 0, with a file system the test controls, for the span of `body`.
struct TestApplication {
    let application: PiSyncApplication
    let files: ControlledFileSystem
    let dataDirectory: String
    let port: Int

    static func with<T>(
        dataDirectory: String? = nil,
        group eventLoops: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        _ configure: (inout ServerConfiguration) -> Void = { _ in },
        _ body: (TestApplication) async throws -> T
    ) async throws -> T {
        let scratch = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        var configuration = ServerConfiguration()
        configuration.port = 0
        configuration.shutdownGracePeriod = .seconds(2)
        configuration.dataDirectory = dataDirectory ?? scratch.appendingPathComponent("data").path
        configure(&configuration)
        let logger = Logger(label: "pisync-test", factory: { _ in SwiftLogNoOpLogHandler() })
        let files = ControlledFileSystem()
        let application = try PiSyncApplication(
            configuration: configuration, logger: logger, fileSystem: files, group: eventLoops)
        let group = ServiceGroup(services: application.services, logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let result = await Result(catching: { () async throws -> T in
                let address = try await application.server.localAddress
                return try await body(
                    TestApplication(
                        application: application, files: files, dataDirectory: configuration.dataDirectory,
                        port: address.port ?? 0))
            })
            files.releaseSyncs()
            files.failWrites(0)
            files.failSyncs(0)
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
