import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import PiSyncProtocol
import Synchronization

/// An async client for a PiSync server over one TCP connection.
///
/// Calls may run concurrently: each request gets its own id and the responses are matched by
/// id, so many requests are pipelined on the one connection.
///
/// ```swift
/// let client = try await PiSyncClient.connect(host: "127.0.0.1", port: 7878)
/// defer { client.close() }
/// let page = try await client.history(deviceID: "pibook-001")
/// ```
public final class PiSyncClient: Sendable {
    private let channel: any Channel
    private let nextID = Atomic<UInt64>(0)

    private init(channel: any Channel) {
        self.channel = channel
    }

    /// Connects to the server at `host`:`port`; with `tls`, over TLS, returning once the
    /// handshake is done (a server whose certificate does not verify fails here).
    public static func connect(
        host: String, port: Int, connectTimeout: Duration = .seconds(10),
        maxFrameSize: Int = FrameCodec.defaultMaxFrameSize, tls: TLSConfiguration? = nil,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> PiSyncClient {
        let timeout = TimeAmount(connectTimeout)
        let sslContext = try tls.map { try NIOSSLContext(configuration: $0) }
        // SNI carries names only; for an address, the certificate is checked against it.
        let serverHostname = (try? SocketAddress(ipAddress: host, port: 0)) == nil ? host : nil
        let handshake = NIOLockedValueBox<EventLoopFuture<Void>?>(nil)
        let channel = try await ClientBootstrap(group: group)
            .connectTimeout(timeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let sslContext {
                        let waiter = TLSHandshakeWaiter(promise: channel.eventLoop.makePromise(), timeout: timeout)
                        handshake.withLockedValue { $0 = waiter.handshake }
                        try channel.pipeline.syncOperations.addHandlers(
                            NIOSSLClientHandler(context: sslContext, serverHostname: serverHostname), waiter)
                    }
                    try channel.pipeline.syncOperations.addHandlers(
                        ByteToMessageHandler(FrameDecoder(maxFrameSize: maxFrameSize)),
                        MessageToByteHandler(MessageFrameEncoder<Pisync_V1_Request>()),
                        ClientHandler())
                }
            }
            .connect(host: host, port: port)
            .get()
        if let handshake = handshake.withLockedValue({ $0 }) {
            do {
                try await handshake.get()
            } catch {
                try? await channel.close()
                throw error
            }
        }
        return PiSyncClient(channel: channel)
    }

    /// Sends `request` (giving it a fresh id when its id is 0) and returns the server's response,
    /// errors included. The typed calls below are built on it.
    public func send(_ request: Pisync_V1_Request) async throws -> Pisync_V1_Response {
        var request = request
        if request.id == 0 { request.id = makeID() }
        let promise = channel.eventLoop.makePromise(of: Pisync_V1_Response.self)
        do {
            try await channel.writeAndFlush(ClientCommand.unary(request, promise))
        } catch {
            // On a closed channel the command may never reach the handler that owns the
            // promise; a promise already failed by the handler ignores this.
            promise.fail(error)
            throw error
        }
        return try await promise.futureResult.get()
    }

    /// Records events; with `deviceID` set, events may leave their device id empty.
    public func recordSync(deviceID: String = "", events: [Pisync_V1_SyncEvent]) async throws -> Pisync_V1_RecordSyncResponse {
        let response = try await call(.recordSync(.with { $0.deviceID = deviceID; $0.events = events }))
        guard case .recordSync(let result) = response.result else { throw unexpected(response) }
        return result
    }

    /// One page of a device's history, newest first; 0 means the default page (1) or limit (10).
    public func history(deviceID: String, page: UInt32 = 0, limit: UInt32 = 0) async throws -> Pisync_V1_GetHistoryResponse {
        let response = try await call(.getHistory(.with { $0.deviceID = deviceID; $0.page = page; $0.limit = limit }))
        guard case .getHistory(let result) = response.result else { throw unexpected(response) }
        return result
    }

    /// Devices with more than `threshold` failed syncs (0 means the default, 3).
    public func failures(threshold: UInt32 = 0, page: UInt32 = 0, limit: UInt32 = 0) async throws -> Pisync_V1_ListFailuresResponse {
        let response = try await call(
            .listFailures(.with { $0.threshold = threshold; $0.page = page; $0.limit = limit }))
        guard case .listFailures(let result) = response.result else { throw unexpected(response) }
        return result
    }

    /// The server's version and uptime.
    public func ping() async throws -> Pisync_V1_PingResponse {
        let response = try await call(.ping(.init()))
        guard case .ping(let result) = response.result else { throw unexpected(response) }
        return result
    }

    /// Presents `token` (from `pisync token`) for this connection; on a server that requires
    /// auth it must come before any other call. Returns who the server takes the connection for.
    /// - Throws: ``PiSyncError`` UNAUTHENTICATED when the token is refused (the server then
    ///   closes the connection), RESOURCE_EXHAUSTED after too many refusals from this address.
    @discardableResult
    public func authenticate(token: String) async throws -> Pisync_V1_AuthenticateResponse {
        let response = try await call(.authenticate(.with { $0.token = token }))
        guard case .authenticate(let result) = response.result else { throw unexpected(response) }
        return result
    }

    /// Opens a FailureAlerts stream; returns once the server has confirmed it.
    /// With `fromSequence` (the last alert's sequence number received before a reconnect) the
    /// server first replays every later alert it still holds; the confirmation says how many
    /// were lost if some are no longer held.
    /// With `deviceIDPrefix`, only alerts of devices whose id starts with it arrive.
    public func subscribeFailureAlerts(
        fromSequence: UInt64? = nil, deviceIDPrefix: String = ""
    ) async throws -> FailureAlertStream {
        let request = Pisync_V1_Request.with {
            $0.id = makeID()
            $0.subscribeFailureAlerts = .with { call in
                if let fromSequence { call.resume = .fromSequence(fromSequence) }
                call.deviceIDPrefix = deviceIDPrefix
            }
        }
        let confirmed = channel.eventLoop.makePromise(of: Pisync_V1_Response.self)
        let (alerts, continuation) = AsyncThrowingStream<FailureAlertStream.Event, any Error>.makeStream()
        do {
            try await channel.writeAndFlush(ClientCommand.subscribe(request, confirmed: confirmed, alerts: continuation))
        } catch {
            confirmed.fail(error)
            continuation.finish(throwing: error)
            throw error
        }
        let response = try await confirmed.futureResult.get()
        guard case .subscribeFailureAlerts(let confirmation) = response.result else { throw unexpected(response) }
        return FailureAlertStream(id: request.id, confirmation: confirmation, alerts: alerts)
    }

    /// Ends the subscription whose subscribe request had id `subscriptionID`; its stream finishes.
    public func cancel(subscriptionID: UInt64) async throws {
        let response = try await call(.cancel(.with { $0.subscriptionID = subscriptionID }))
        guard case .cancel = response.result else { throw unexpected(response) }
    }

    /// Closes the connection; pending calls fail with ``PiSyncClientError/connectionClosed``.
    public func close() {
        channel.close(promise: nil)
    }

    private func call(_ call: Pisync_V1_Request.OneOf_Call) async throws -> Pisync_V1_Response {
        try await send(.with { $0.call = call })
    }

    private func makeID() -> UInt64 {
        nextID.add(1, ordering: .relaxed).newValue
    }

    private func unexpected(_ response: Pisync_V1_Response) -> any Error {
        if case .error(let error) = response.result { return PiSyncError(error) }
        return PiSyncClientError.unexpectedResponse("\(response.result.map { "\($0)" } ?? "no result")")
    }
}

/// A live FailureAlerts subscription: iterate it for alerts. It finishes when cancelled and
/// throws ``PiSyncError`` when the server ends it (slow subscriber, shutdown).
public struct FailureAlertStream: AsyncSequence, Sendable {
    /// Iterating the stream itself gives its alerts only; ``events`` gives recoveries too.
    public typealias Element = Pisync_V1_FailureAlert

    /// What arrives on a subscription, in sequence order.
    public enum Event: Sendable, Equatable {
        /// A device's run of failures reached the threshold.
        case alert(Pisync_V1_FailureAlert)
        /// A device that alerted recorded a sync that ended its run.
        case recovered(Pisync_V1_DeviceRecovered)

        /// The event's sequence number.
        public var sequence: UInt64 {
            switch self {
            case .alert(let alert): alert.sequence
            case .recovered(let recovered): recovered.sequence
            }
        }
    }

    /// The subscribe request's id; pass it to ``PiSyncClient/cancel(subscriptionID:)``.
    public let id: UInt64
    /// The server's confirmation, with its buffer size and alert threshold.
    public let confirmation: Pisync_V1_SubscribeFailureAlertsResponse
    let stream: AsyncThrowingStream<Event, any Error>

    init(id: UInt64, confirmation: Pisync_V1_SubscribeFailureAlertsResponse, alerts: AsyncThrowingStream<Event, any Error>) {
        self.id = id
        self.confirmation = confirmation
        self.stream = alerts
    }

    /// Alerts and recoveries, in sequence order. Iterate either this or the stream itself, once.
    public var events: AsyncThrowingStream<Event, any Error> { stream }

    public func makeAsyncIterator() -> Iterator {
        Iterator(base: stream.makeAsyncIterator())
    }

    /// Yields the alerts, skipping recoveries.
    public struct Iterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<Event, any Error>.AsyncIterator

        public mutating func next() async throws -> Pisync_V1_FailureAlert? {
            while let event = try await base.next() {
                if case .alert(let alert) = event { return alert }
            }
            return nil
        }
    }
}
