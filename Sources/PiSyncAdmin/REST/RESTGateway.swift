import Foundation
import Hummingbird
import NIOCore
import PiSyncProtocol
import PiSyncServer
import PiSyncStore

/// The seed's REST API on the admin HTTP port (`serve --rest`), so that devices and dashboards
/// written against the old Node/Express service keep working while they move to the binary
/// protocol:
///
/// - `POST /api/sync-event`: one event → 201 and the stored event; a retry of a stored event
///   → 200, the first-stored event and `"duplicate": true`;
/// - `GET /api/device/:id/sync-history?page=&limit=`: newest first;
/// - `GET /api/devices/repeated-failures?threshold=&page=&limit=`;
/// - `GET /openapi.json` (OpenAPI 3) and `GET /api-docs` (a page generated from it).
///
/// Every call goes through the binary protocol's own code path (``UnaryCalls``): the same
/// store, validation, per-device rate limit, and durability (a POST is answered once its event
/// is durable under `--fsync`, as a RecordSync is acknowledged). Errors are JSON bodies
/// `{"error":{"code","field","message"}}` (docs/operations.md, "The REST gateway").
public struct RESTGateway: Sendable {
    /// The default largest request body: Express's `express.json()` default, 100 KiB.
    public static let defaultMaxBodyBytes = 100 * 1024

    /// The server's calls, or `nil` while it is still recovering its data directory.
    private let resolveCalls: @Sendable () -> UnaryCalls?
    private let maxBodyBytes: Int
    private let openAPIText: String
    private let docsPage: String

    /// A gateway answering through `calls` (``PiSyncServer/unaryCalls``), refusing bodies over
    /// `maxBodyBytes` with 413.
    public init(calls: UnaryCalls, maxBodyBytes: Int = RESTGateway.defaultMaxBodyBytes) {
        self.init(resolving: { calls }, maxBodyBytes: maxBodyBytes)
    }

    /// A gateway onto the server `launcher` runs (`serve --rest`): until it has recovered its
    /// data directory, every API call answers 503 UNAVAILABLE.
    public init(launcher: ApplicationLauncher, maxBodyBytes: Int = RESTGateway.defaultMaxBodyBytes) {
        self.init(resolving: { launcher.application?.server.unaryCalls }, maxBodyBytes: maxBodyBytes)
    }

    private init(resolving: @escaping @Sendable () -> UnaryCalls?, maxBodyBytes: Int) {
        self.resolveCalls = resolving
        self.maxBodyBytes = maxBodyBytes
        let document = RESTOpenAPI.document(maxBodyBytes: maxBodyBytes)
        self.openAPIText = document.prettyPrinted
        self.docsPage = APIDocsPage.html(document)
    }

    /// A gateway onto `application`'s server.
    public init(application: PiSyncApplication, maxBodyBytes: Int = RESTGateway.defaultMaxBodyBytes) {
        self.init(calls: application.server.unaryCalls, maxBodyBytes: maxBodyBytes)
    }

    /// Adds the REST routes, `/openapi.json` and `/api-docs` to `router`.
    public func addRoutes<Context: RequestContext>(to router: Router<Context>) {
        router.post("/api/sync-event") { request, _ in await self.answer { try await self.recordSync(request) } }
        router.get("/api/device/:id/sync-history") { request, context in
            await self.answer { try await self.history(request, deviceID: context.parameters.get("id") ?? "") }
        }
        router.get("/api/devices/repeated-failures") { request, _ in
            await self.answer { try await self.failures(request) }
        }
        router.get("/openapi.json") { _, _ in
            Self.text(self.openAPIText, contentType: "application/json; charset=utf-8")
        }
        router.get("/api-docs") { _, _ in Self.text(self.docsPage, contentType: "text/html; charset=utf-8") }
    }

    /// The server's calls; 503 while it is recovering.
    private func calls() throws(RESTError) -> UnaryCalls {
        guard let calls = resolveCalls() else {
            throw RESTError(
                status: .serviceUnavailable, code: .unavailable, field: "",
                message: "the server is recovering its data directory; retry shortly", retryAfterMillis: 1000)
        }
        return calls
    }

    /// Runs a handler, turning its ``RESTError`` into the error answer.
    private func answer(_ handler: () async throws -> Response) async -> Response {
        do {
            return try await handler()
        } catch let error as RESTError {
            return error.response
        } catch {
            return RESTError(status: .internalServerError, code: .internal, field: "", message: "\(error)").response
        }
    }

    private func recordSync(_ request: Request) async throws(RESTError) -> Response {
        let event = try SyncEventJSON.parse(try await body(of: request))
        let calls = try self.calls()
        let answer = await calls.recordSync(.with { $0.events = [Pisync_V1_SyncEvent(event)] })
        switch answer.result {
        case .recordSync(let result) where result.accepted == 1:
            return Self.json(["message": "Sync event recorded", "data": SyncEventJSON.render(event)], status: .created)
        case .recordSync(let result) where result.duplicates == 1:
            // First write wins: answer with what is stored, which a retry with other counts
            // did not change. (Gone from memory only if retention moved it out meanwhile.)
            let stored = calls.store.event(of: event.deviceID, at: event.timestamp) ?? event
            return Self.json(
                ["message": "Sync event already recorded", "duplicate": true, "data": SyncEventJSON.render(stored)],
                status: .ok)
        case .recordSync(let result):
            let rejection = result.rejected.first
            throw .invalid(rejection?.field ?? "body", rejection?.message ?? "the event was not recorded")
        case .error(let error):
            throw RESTError(error)
        default:
            throw RESTError(status: .internalServerError, code: .internal, field: "", message: "unexpected answer from the store")
        }
    }

    private func history(_ request: Request, deviceID: String) async throws(RESTError) -> Response {
        let query = try RESTQuery(request.uri.queryParameters, allowed: ["page", "limit"])
        let answer = await try self.calls().getHistory(.with {
            $0.deviceID = deviceID
            $0.page = query.page
            $0.limit = query.limit
        })
        guard case .getHistory(let page) = answer.result else { throw Self.failure(answer) }
        return Self.json([
            "device_id": .string(deviceID),
            "page": .number(Double(page.page)),
            "limit": .number(Double(page.limit)),
            "total": .number(Double(page.total)),
            "events": .array(page.events.map { SyncEventJSON.render(SyncEvent($0)) }),
        ])
    }

    private func failures(_ request: Request) async throws(RESTError) -> Response {
        let query = try RESTQuery(request.uri.queryParameters, allowed: ["threshold", "page", "limit"])
        let answer = await try self.calls().listFailures(.with {
            $0.threshold = query.threshold
            $0.page = query.page
            $0.limit = query.limit
        })
        guard case .listFailures(let list) = answer.result else { throw Self.failure(answer) }
        return Self.json([
            "threshold": .number(Double(list.threshold)),
            "page": .number(Double(list.page)),
            "limit": .number(Double(list.limit)),
            "total": .number(Double(list.total)),
            "devices": .array(list.devices.map(Self.render)),
        ])
    }

    /// The body of a POST: JSON, at most `maxBodyBytes`.
    private func body(of request: Request) async throws(RESTError) -> [UInt8] {
        let mediaType = request.headers[.contentType]?.split(separator: ";").first?
            .trimmingCharacters(in: .whitespaces).lowercased()
        guard let mediaType, mediaType == "application/json" || mediaType.hasSuffix("+json") else {
            throw RESTError(
                status: .unsupportedMediaType, code: .invalidArgument, field: "Content-Type",
                message: "the body must be JSON: send Content-Type: application/json, got \(mediaType.map { "'\($0)'" } ?? "none")")
        }
        let tooLarge = RESTError(
            status: .contentTooLarge, code: .resourceExhausted, field: "body",
            message: "the body is over the limit of \(maxBodyBytes) bytes: send one sync event per request")
        if let length = request.headers[.contentLength].flatMap(Int.init), length > maxBodyBytes { throw tooLarge }
        do {
            let buffer = try await request.body.collect(upTo: maxBodyBytes)
            return Array(buffer.readableBytesView)
        } catch is NIOTooManyBytesError {
            throw tooLarge
        } catch {
            throw RESTError(
                status: .badRequest, code: .invalidArgument, field: "body", message: "the body could not be read: \(error)")
        }
    }

    private static func failure(_ answer: Pisync_V1_Response) -> RESTError {
        if case .error(let error) = answer.result { return RESTError(error) }
        return RESTError(status: .internalServerError, code: .internal, field: "", message: "unexpected answer from the store")
    }

    private static func render(_ device: Pisync_V1_DeviceFailures) -> JSONValue {
        [
            "device_id": .string(device.deviceID),
            "failed_syncs": .number(Double(device.failedSyncs)),
            "total_syncs": .number(Double(device.totalSyncs)),
            "consecutive_failures": .number(Double(device.consecutiveFailures)),
            "last_failure_timestamp": device.lastFailureTimestamp == 0
                ? .null : .string(ISOTimestamp.format(device.lastFailureTimestamp)),
            "last_success_timestamp": device.lastSuccessTimestamp == 0
                ? .null : .string(ISOTimestamp.format(device.lastSuccessTimestamp)),
        ]
    }

    /// A JSON answer.
    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: value.serialized)))
    }

    private static func text(_ text: String, contentType: String) -> Response {
        Response(status: .ok, headers: [.contentType: contentType], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

extension SyncEvent {
    /// The store's form of a wire event.
    fileprivate init(_ event: Pisync_V1_SyncEvent) {
        self.init(
            deviceID: event.deviceID, timestamp: event.timestamp, filesSynced: event.totalFilesSynced,
            errors: event.totalErrors, internetSpeed: event.internetSpeed)
    }
}
