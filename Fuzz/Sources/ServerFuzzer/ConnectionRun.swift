import Logging
import NIOCore
import NIOEmbedded
import PiSyncProtocol
import PiSyncStore
@_spi(Fuzzing) import PiSyncServer

/// Serves one fuzz input as one connection: the server's own pipeline
/// (``PiSyncServer/addConnectionHandlers(to:configuration:store:bus:clock:logger:)``) on an
/// `EmbeddedChannel`, over a new in-memory store, fed the input's reads and events, then
/// closed by the peer.
///
/// Reads are delivered as NIO's socket channel delivers them with auto-read: only after a read
/// request has come through the pipeline to the socket (``SocketReads``), and the channel asks
/// for the next one after each. A server that holds reads back (back-pressure) so holds the
/// peer's bytes back too.
///
/// Invariants, checked after every step; a broken one traps, which libFuzzer records as a
/// crash with the input that caused it:
/// - no crash, no precondition failure (the sanitizers and Swift's own checks);
/// - no error escapes the pipeline (the connection handler handles every one);
/// - everything the server writes is flushed by the end of the step (no answer left waiting);
/// - the bytes written are whole frames, each a `pisync.v1.Response` that carries a result,
///   whose id is 0 (a connection notice) or the id of a request the peer sent;
/// - while the connection is open and the peer reads, the server reads all it is sent and
///   answers every request.
struct ConnectionRun {
    let input: FuzzInput
    private static let logger = Logger(label: "pisync.fuzz") { _ in DiscardingLogHandler() }

    func run() {
        let configuration = FuzzServer.configuration(input.options)
        let loop = EmbeddedEventLoop()
        let channel = EmbeddedChannel(loop: loop)
        let bus = AlertBus()
        let store = SyncStore(configuration: configuration.storeConfiguration, onAlert: bus.publish)
        let socket = SocketReads()
        let idle = ReadIdleTimer(timeout: TimeAmount(configuration.idleTimeout))
        expect(no: {
            try PiSyncServer.addConnectionHandlers(
                to: channel, configuration: configuration, store: store, bus: bus, clock: FuzzServer.clock,
                logger: Self.logger)
            try idle.replaceIdleStateHandler(in: channel)
            try channel.pipeline.syncOperations.addHandler(socket, position: .first)
            let peer = try SocketAddress(ipAddress: "127.0.0.1", port: 40_000)
            channel.remoteAddress = peer
            try channel.connect(to: peer).wait()
        })
        idle.restart(channel)
        channel.read()  // auto-read's first read, once the channel is active
        var output = ByteBuffer()
        var unread: [UInt8] = []  // sent by the peer, not read by the server yet
        var read: [UInt8] = []
        for step in input.steps where channel.isActive {
            unread += step.bytes
            if socket.take() {
                deliver(&unread, to: channel, readSoFar: &read)
                idle.restart(channel)
            }
            switch step.event {
            case .none:
                break
            case .advance(let milliseconds):
                loop.advanceTime(by: .milliseconds(milliseconds))
            case .toggleWritable:
                setWritable(!channel.isWritable, channel)
            }
            settle(channel, into: &output)
        }
        // The peer reads what is waiting for it, and the server reads the rest; then the peer
        // hangs up.
        if channel.isActive && !channel.isWritable {
            setWritable(true, channel)
            settle(channel, into: &output)
        }
        while channel.isActive && !unread.isEmpty && socket.take() {
            deliver(&unread, to: channel, readSoFar: &read)
            idle.restart(channel)
            settle(channel, into: &output)
        }
        let stillOpen = channel.isActive
        precondition(!stillOpen || unread.isEmpty, "the server stopped reading a connection that reads its answers")
        idle.cancel()
        channel.close(promise: nil)
        settle(channel, into: &output)
        expect(no: { _ = try channel.finish(acceptAlreadyClosed: true) })
        ResponseCheck(output: output, input: read, maxFrameSize: configuration.maxFrameSize, expectAllAnswered: stillOpen)
            .verify()
    }

    /// One read of everything the peer has sent, followed by the next read request, as
    /// auto-read makes once a read completes.
    private func deliver(_ unread: inout [UInt8], to channel: EmbeddedChannel, readSoFar read: inout [UInt8]) {
        let bytes = unread
        unread = []
        read += bytes
        expect(no: { try channel.writeInbound(ByteBuffer(bytes: bytes)) })
        channel.read()
    }

    private func setWritable(_ writable: Bool, _ channel: EmbeddedChannel) {
        channel.isWritable = writable
        channel.pipeline.fireChannelWritabilityChanged()
    }

    /// Runs what the step left for the event loop, then takes what the server wrote.
    private func settle(_ channel: EmbeddedChannel, into output: inout ByteBuffer) {
        channel.embeddedEventLoop.run()
        expect(no: { try channel.throwIfErrorCaught() })
        if channel.isActive {
            let unflushed = expect(returning: { try channel.getOption(.bufferedWritableBytes).wait() })
            precondition(unflushed == 0, "\(unflushed) bytes written and not flushed at the end of a step")
        }
        while var buffer = expect(returning: { try channel.readOutbound(as: ByteBuffer.self) }) {
            output.writeBuffer(&buffer)
        }
    }
}

/// Traps with the error, so that libFuzzer records the input.
func expect(no body: () throws -> Void) {
    do { try body() } catch { preconditionFailure("unexpected error: \(error)") }
}

func expect<T>(returning body: () throws -> T) -> T {
    do { return try body() } catch { preconditionFailure("unexpected error: \(error)") }
}
