import Histogram
import NIOCore
import NIOPosix
import PiSyncProtocol

/// A closed-loop load: each connection sends a request frame, waits for one frame back, and
/// sends the next, timing every round trip. The client runs on event loops, with no task
/// hops of its own, so the server's cost is what varies between scenarios.
enum ClosedLoopLoad {
    /// The outcome of one run.
    struct Result {
        var latencies: Histogram<UInt64>
        var elapsed: Duration
        var requests: Int { Int(latencies.totalCount) }
        var perSecond: Double { Double(requests) / elapsed.inSeconds }
    }

    /// Round-trip times in nanoseconds, up to 60 ms, to three significant digits.
    static func emptyLatencies() -> Histogram<UInt64> {
        Histogram(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
    }

    /// Runs `connections` connections to `port`, each sending `requests` frames; `frame(c, i)`
    /// builds request `i` of connection `c`.
    static func run(
        port: Int, connections: Int, requests: Int, group: any EventLoopGroup,
        frame: @escaping @Sendable (Int, Int) -> [UInt8]
    ) async throws -> Result {
        let start = ContinuousClock.now
        let histograms = try await withThrowingTaskGroup(of: Histogram<UInt64>.self) { tasks in
            for connection in 0..<connections {
                tasks.addTask {
                    let done = group.next().makePromise(of: Histogram<UInt64>.self)
                    let channel = try await ClientBootstrap(group: group)
                        .channelOption(.socketOption(.tcp_nodelay), value: 1)
                        .channelInitializer { channel in
                            channel.eventLoop.makeCompletedFuture {
                                try channel.pipeline.syncOperations.addHandlers(
                                    ByteToMessageHandler(FrameDecoder(maxFrameSize: 1 << 24)),
                                    Driver(requests: requests, frame: { frame(connection, $0) }, done: done))
                            }
                        }
                        .connect(host: "127.0.0.1", port: port).get()
                    let histogram = try await done.futureResult.get()
                    try? await channel.close()
                    return histogram
                }
            }
            var all: [Histogram<UInt64>] = []
            for try await histogram in tasks { all.append(histogram) }
            return all
        }
        let elapsed = ContinuousClock.now - start
        var merged = emptyLatencies()
        for histogram in histograms { merged.add(histogram) }
        return Result(latencies: merged, elapsed: elapsed)
    }

    /// Sends requests one at a time and records each round trip in nanoseconds.
    private final class Driver: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer

        private let requests: Int
        private let frame: (Int) -> [UInt8]
        private let done: EventLoopPromise<Histogram<UInt64>>
        private var sent = 0
        private var sentAt = NIODeadline.now()
        private var histogram = ClosedLoopLoad.emptyLatencies()

        init(requests: Int, frame: @escaping (Int) -> [UInt8], done: EventLoopPromise<Histogram<UInt64>>) {
            self.requests = requests
            self.frame = frame
            self.done = done
        }

        func channelActive(context: ChannelHandlerContext) {
            sendNext(context)
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let nanoseconds = (NIODeadline.now() - sentAt).nanoseconds
            _ = histogram.record(UInt64(max(0, nanoseconds)))
            if sent < requests {
                sendNext(context)
            } else {
                done.succeed(histogram)
            }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            done.fail(error)
            context.close(promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            done.fail(ChannelError.eof)  // no effect once the run has succeeded
        }

        private func sendNext(_ context: ChannelHandlerContext) {
            var buffer = context.channel.allocator.buffer(capacity: 64)
            FrameCodec.writeFrame(frame(sent), into: &buffer)
            sent += 1
            sentAt = .now()
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        }
    }
}
