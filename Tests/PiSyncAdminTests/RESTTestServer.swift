import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import PiSyncAdmin
import PiSyncClient
import PiSyncServer
import PiSyncTestSupport
import ServiceLifecycle

/// A persisting PiSync application on a data directory, with a file system the test controls
/// and a Hummingbird server on 127.0.0.1 port 0 serving the REST gateway over it, both run for
/// the span of `body`.
struct RESTTestServer {
    let application: PiSyncApplication
    let files: ControlledFileSystem
    let httpPort: Int
    let binaryPort: Int

    /// A new temporary directory, removed by the caller.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("pisync-rest-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Runs `body` against a gateway over the data in `dataDirectory` (a new temporary one when
    /// `nil`), with `configure` applied to the server's settings.
    static func with<T>(
        dataDirectory: String? = nil, maxBodyBytes: Int = RESTGateway.defaultMaxBodyBytes,
        _ configure: (inout ServerConfiguration) -> Void = { _ in },
        _ body: (RESTTestServer) async throws -> T
    ) async throws -> T {
        let scratch = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        var configuration = ServerConfiguration()
        configuration.port = 0
        configuration.shutdownGracePeriod = .seconds(2)
        configuration.dataDirectory = dataDirectory ?? scratch.appendingPathComponent("data").path
        configure(&configuration)
        let logger = Logger(label: "pisync-rest-test", factory: { _ in SwiftLogNoOpLogHandler() })
        let files = ControlledFileSystem()
        let application = try PiSyncApplication(configuration: configuration, logger: logger, fileSystem: files)
        let router = Router()
        RESTGateway(application: application, maxBodyBytes: maxBodyBytes).addRoutes(to: router)
        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        let http = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                portSink.yield(channel.localAddress?.port ?? 0)
                portSink.finish()
            }, logger: logger)
        let group = ServiceGroup(services: application.services + [http], logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let result: Result<T, any Error>
            do {
                var iterator = ports.makeAsyncIterator()
                let httpPort = await iterator.next() ?? 0
                let binaryPort = try await application.server.localAddress.port ?? 0
                result = .success(
                    try await body(
                        RESTTestServer(application: application, files: files, httpPort: httpPort, binaryPort: binaryPort)))
            } catch {
                result = .failure(error)
            }
            files.releaseSyncs()
            files.failWrites(0)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return try result.get()
        }
    }

    /// An HTTP answer: status, headers, body text and the body as JSON (when it is JSON).
    struct Answer {
        let status: Int
        /// Header values by lower-case name (the first of each).
        let headers: [String: String]
        let text: String

        /// The value of header `name`.
        func header(_ name: String) -> String? { headers[name.lowercased()] }
        var json: JSONValue? { try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) }

        /// `error.field` of an error body.
        var errorField: String? { if case .string(let field) = json?["error"]?["field"] { field } else { nil } }
        /// `error.code` of an error body.
        var errorCode: String? { if case .string(let code) = json?["error"]?["code"] { code } else { nil } }
        /// `error.message` of an error body.
        var errorMessage: String { if case .string(let message) = json?["error"]?["message"] { message } else { "" } }
    }

    /// Sends a real HTTP request to the gateway.
    func request(
        _ method: String, _ path: String, body: String? = nil, contentType: String? = "application/json",
        headers: [(String, String)] = []
    ) async throws -> Answer {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(httpPort)\(path)")
        request.method = .init(rawValue: method)
        if let body {
            request.body = .bytes(ByteBuffer(string: body))
            if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
        }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 4 << 20)
        let headers = Dictionary(response.headers.map { ($0.name.lowercased(), $0.value) }) { first, _ in first }
        return Answer(status: Int(response.status.code), headers: headers, text: String(buffer: bytes))
    }

    /// `POST /api/sync-event` with `event` as its JSON body.
    func post(_ event: JSONValue) async throws -> Answer {
        try await request("POST", "/api/sync-event", body: event.serialized)
    }

    /// A binary-protocol client of the same server.
    func client() async throws -> PiSyncClient {
        try await PiSyncClient.connect(host: "127.0.0.1", port: binaryPort)
    }
}
