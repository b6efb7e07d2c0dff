import Logging
import NIOCore
import PiSyncPersistence
import PiSyncProtocol
import PiSyncStore

/// How a connection is served: its pipeline, and the per-server state its handlers share.
///
/// The server builds every admitted connection with these; the fuzz target (`Fuzz/`) builds
/// an `EmbeddedChannel` with the same, through the `Fuzzing` SPI, so that what is fuzzed
/// cannot drift from what is served.
extension PiSyncServer {
    /// Adds the handlers that serve one connection, for a server with `configuration` over
    /// `store`: the same pipeline as the server's, with a new dispatcher and a new auth-failure
    /// limiter (the server shares one of each across its connections).
    ///
    /// SPI for the fuzz target, not for applications: the server adds these itself.
    @_spi(Fuzzing) public static func addConnectionHandlers(
        to channel: any Channel, configuration: ServerConfiguration, store: SyncStore, bus: AlertBus,
        clock: ServerClock, logger: Logger
    ) throws {
        try addConnectionHandlers(
            to: channel, configuration: configuration,
            dispatcher: makeDispatcher(configuration: configuration, store: store, log: nil, clock: clock), bus: bus,
            authFailures: makeAuthFailureLimiter(configuration), logger: logger)
    }

    /// Adds the read timeout, the frame deadline, the frame decoder and encoder, and the
    /// ``ConnectionHandler`` that answers requests through `dispatcher`.
    static func addConnectionHandlers(
        to channel: any Channel, configuration: ServerConfiguration, dispatcher: RequestDispatcher, bus: AlertBus,
        authFailures: RateLimiter?, logger: Logger
    ) throws {
        try channel.pipeline.syncOperations.addHandlers(
            // Idle means nothing read: a read timeout needs no promise per write, as an "all"
            // timeout does (it tracks write completions), and a peer that sends nothing while
            // answers still flow is not idle in any way that matters for 300 s.
            IdleStateHandler(readTimeout: TimeAmount(configuration.idleTimeout)),
            FrameDeadlineHandler(deadline: configuration.frameTimeout),
            ByteToMessageHandler(FrameDecoder(maxFrameSize: configuration.maxFrameSize)),
            MessageToByteHandler(OutboundFrameEncoder()),
            ConnectionHandler(
                dispatcher: dispatcher, bus: bus, configuration: configuration, authFailures: authFailures,
                logger: logger))
    }

    /// The dispatcher a server's connections share: `store` (journaled in `log`, when the
    /// server persists) under the configuration's limits, with the per-device rate limit.
    static func makeDispatcher(
        configuration: ServerConfiguration, store: SyncStore, log: WriteAheadLog?, clock: ServerClock
    ) -> RequestDispatcher {
        let deviceRate = configuration.effectiveDeviceRate
        return RequestDispatcher(
            store: store, log: log, maxBatchSize: configuration.maxBatchSize, maxFrameSize: configuration.maxFrameSize,
            clock: clock, authRequired: configuration.authRequired,
            deviceLimiter: deviceRate > 0 ? RateLimiter(rate: deviceRate, burst: configuration.deviceBurst) : nil)
    }

    /// The limit on refused tokens per source address, with auth on.
    static func makeAuthFailureLimiter(_ configuration: ServerConfiguration) -> RateLimiter? {
        guard configuration.authRequired else { return nil }
        return RateLimiter(
            rate: Double(configuration.maxAuthFailuresPerMinute) / 60, burst: configuration.maxAuthFailuresPerMinute)
    }
}
