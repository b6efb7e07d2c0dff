import NIOCore
import NIOPosix
import PiSyncProtocol
import Synchronization

/// Frames for the alert fan-out benchmark: RecordSyncs whose every event is some new
/// device's first sync, either failed (each raises an alert at threshold 1) or successful
/// (the same work without alerts: the baseline).
enum AlertFanOut {
    /// Builds request `index` of a run: `batch` events of devices never seen before.
    static func frame(run: String, failed: Bool, batch: Int, base: Int64) -> @Sendable (Int, Int) -> [UInt8] {
        { connection, index in
            let request = Pisync_V1_Request.with {
                $0.id = UInt64(index + 1)
                $0.recordSync = .with {
                    $0.events = (0..<batch).map { offset in
                        .with {
                            $0.deviceID = "fan-\(run)-\(connection)-\(index)-\(offset)"
                            // Each event newer than the last, as devices report: index updates append.
                            $0.timestamp = base + Int64(index * batch + offset)
                            $0.totalErrors = failed ? 1 : 0
                            $0.totalFilesSynced = failed ? 0 : 1
                        }
                    }
                }
            }
            return (try? request.serializedBytes()) ?? []
        }
    }

    /// Opens `count` subscriber connections that count the frames they receive without
    /// decoding them, so the benchmark's client side stays cheap next to the server's work;
    /// returns them and a way to read the count.
    static func subscribers(count: Int, port: Int, group: any EventLoopGroup) async throws -> ([any Channel], FrameCounter) {
        let counter = FrameCounter()
        let channels = try await connect(count: count, port: port, group: group) { CountingSubscriber(counter: counter) }
        return (channels, counter)
    }

    /// Opens `count` connections whose frames go to a handler from `makeHandler` (which should
    /// subscribe when its connection opens, with ``subscribe(_:)``).
    static func connect(
        count: Int, port: Int, group: any EventLoopGroup,
        makeHandler: @escaping @Sendable () -> any ChannelInboundHandler
    ) async throws -> [any Channel] {
        var channels: [any Channel] = []
        for _ in 0..<count {
            channels.append(try await ClientBootstrap(group: group)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder(maxFrameSize: 1 << 20)))
                        try channel.pipeline.syncOperations.addHandler(makeHandler())
                    }
                }
                .connect(host: "127.0.0.1", port: port).get())
        }
        return channels
    }

    /// Sends a subscribe request with id 1 on the connection.
    static func subscribe(_ context: ChannelHandlerContext) {
        let subscribe = Pisync_V1_Request.with { $0.id = 1; $0.subscribeFailureAlerts = .init() }
        var buffer = context.channel.allocator.buffer(capacity: 8)
        FrameCodec.writeFrame((try? subscribe.serializedBytes()) ?? [], into: &buffer)
        context.writeAndFlush(NIOAny(buffer), promise: nil)
    }

    /// Frames received by all subscribers, the subscribe confirmations included.
    final class FrameCounter: Sendable {
        let frames = Atomic<Int>(0)
    }

    /// Subscribes when the connection opens, then counts each frame it receives.
    private final class CountingSubscriber: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let counter: FrameCounter

        init(counter: FrameCounter) {
            self.counter = counter
        }

        func channelActive(context: ChannelHandlerContext) {
            AlertFanOut.subscribe(context)
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            counter.frames.add(1, ordering: .relaxed)
        }
    }
}
