import Histogram
import NIOCore
import NIOPosix
import NIOSSL
import PiSyncProtocol

/// An open pipeline per connection: each connection keeps `depth` requests in flight, sending
/// the next as each answer arrives, for a warm-up and then a measured window. Answers are only
/// counted (varint frames, or RESP lines), never decoded, so the client's cost per request is
/// the same whichever server it drives.
enum PipelinedLoad {
    struct Settings: Sendable {
        var host = "127.0.0.1"
        var port: Int
        var connections = 8
        var depth = 16
        var warmup: Duration = .seconds(1)
        var duration: Duration = .seconds(5)
        /// Count every answer that is not a RecordSync acknowledgement with all events newly
        /// stored (an error, a rejection or a duplicate), without decoding it.
        var checkAcknowledgements = false
        /// Connect over TLS.
        var tls: TLSConfiguration?
        /// A frame sent first on each connection (an Authenticate); its answer is not counted.
        var preamble: [UInt8]?
    }

    /// The measured window's outcome, all connections merged.
    struct Result {
        var requests: Int
        var elapsed: Duration
        var latencies: Histogram<UInt64>
        /// Answers that failed the acknowledgement check, over the whole run.
        var unexpected: Int
        var perSecond: Double { Double(requests) / elapsed.inSeconds }
    }

    static func run(_ settings: Settings, wire: RequestTemplate.Wire, templates: [RequestTemplate]) async throws -> Result {
        let group = MultiThreadedEventLoopGroup.singleton
        let start = NIODeadline.now()
        let measureFrom = start + TimeAmount(settings.warmup)
        let stopAt = measureFrom + TimeAmount(settings.duration)
        let sslContext = try settings.tls.map { try NIOSSLContext(configuration: $0) }
        let outcomes = try await withThrowingTaskGroup(of: Driver.Outcome.self) { tasks in
            for template in templates {
                tasks.addTask {
                    let done = group.next().makePromise(of: Driver.Outcome.self)
                    let driver = Driver(
                        template: template, wire: wire, depth: settings.depth, measureFrom: measureFrom, stopAt: stopAt,
                        checkAcknowledgements: settings.checkAcknowledgements, preamble: settings.preamble, done: done)
                    let channel: any Channel
                    do {
                        channel = try await ClientBootstrap(group: group)
                            .channelOption(.socketOption(.tcp_nodelay), value: 1)
                            .channelInitializer { channel in
                                channel.eventLoop.makeCompletedFuture {
                                    if let sslContext {
                                        try channel.pipeline.syncOperations.addHandler(
                                            NIOSSLClientHandler(context: sslContext, serverHostname: nil))
                                    }
                                    try channel.pipeline.syncOperations.addHandler(driver)
                                }
                            }
                            .connect(host: settings.host, port: settings.port).get()
                    } catch {
                        let failure = LoadError.connection("cannot connect to \(settings.host):\(settings.port): \(error)")
                        done.fail(failure)
                        throw failure
                    }
                    let outcome = try await done.futureResult.get()
                    try? await channel.close()
                    return outcome
                }
            }
            var all: [Driver.Outcome] = []
            for try await outcome in tasks { all.append(outcome) }
            return all
        }
        var merged = Driver.emptyHistogram()
        for outcome in outcomes { merged.add(outcome.latencies) }
        return Result(
            requests: outcomes.reduce(0) { $0 + $1.measured }, elapsed: settings.duration, latencies: merged,
            unexpected: outcomes.reduce(0) { $0 + $1.unexpected })
    }

    /// Keeps one connection's pipeline full and times each request from send to answer.
    final class Driver: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer

        struct Outcome: Sendable {
            var measured: Int
            var latencies: Histogram<UInt64>
            var unexpected: Int
        }

        static func emptyHistogram() -> Histogram<UInt64> {
            Histogram(highestTrackableValue: 10_000_000_000, numberOfSignificantValueDigits: .three)
        }

        private let template: RequestTemplate
        private let wire: RequestTemplate.Wire
        private let depth: Int
        private let measureFrom: NIODeadline
        private let stopAt: NIODeadline
        private let done: EventLoopPromise<Driver.Outcome>
        private var sentAt = CircularBuffer<NIODeadline>()
        private var next = 0
        private var measured = 0
        private var histogram = Driver.emptyHistogram()
        private var pending: ByteBuffer?
        private var scratch: [UInt8] = []
        private var stopping = false
        private let checkAcknowledgements: Bool
        private var unexpected = 0
        private let preamble: [UInt8]?
        /// The preamble's answer is still to come (answers leave in request order).
        private var awaitingPreambleAnswer = false

        init(
            template: RequestTemplate, wire: RequestTemplate.Wire, depth: Int, measureFrom: NIODeadline,
            stopAt: NIODeadline, checkAcknowledgements: Bool, preamble: [UInt8]?, done: EventLoopPromise<Driver.Outcome>
        ) {
            self.preamble = preamble
            self.checkAcknowledgements = checkAcknowledgements
            self.template = template
            self.wire = wire
            self.depth = depth
            self.measureFrom = measureFrom
            self.stopAt = stopAt
            self.done = done
        }

        func channelActive(context: ChannelHandlerContext) {
            if let preamble {
                awaitingPreambleAnswer = true
                context.write(wrapOutboundOut(context.channel.allocator.buffer(bytes: preamble)), promise: nil)
            }
            for _ in 0..<depth { send(context) }
            context.flush()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var buffer = unwrapInboundIn(data)
            if var carried = pending {
                carried.writeBuffer(&buffer)
                buffer = carried
                pending = nil
            }
            let now = NIODeadline.now()
            while true {
                let answered: Bool
                do {
                    answered = try takeAnswer(from: &buffer)
                } catch {
                    errorCaught(context: context, error: error)  // framing lost: the run fails
                    return
                }
                guard answered else { break }
                if awaitingPreambleAnswer {
                    awaitingPreambleAnswer = false
                    continue
                }
                guard let sent = sentAt.popFirst() else { continue }
                if sent >= measureFrom && now <= stopAt {
                    measured += 1
                    _ = histogram.record(UInt64(max(0, (now - sent).nanoseconds)))
                }
                if now < stopAt {
                    send(context)
                } else {
                    stopping = true
                }
            }
            if buffer.readableBytes > 0 { pending = buffer }
            if stopping && sentAt.isEmpty {
                done.succeed(Outcome(measured: measured, latencies: histogram, unexpected: unexpected))
            }
        }

        func channelReadComplete(context: ChannelHandlerContext) {
            context.flush()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            done.fail(error)
            context.close(promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            done.fail(LoadError.connection("the server closed the connection"))  // no effect after success
        }

        private func send(_ context: ChannelHandlerContext) {
            scratch.removeAll(keepingCapacity: true)
            template.write(next, into: &scratch)
            next += 1
            sentAt.append(.now())
            context.write(wrapOutboundOut(context.channel.allocator.buffer(bytes: scratch)), promise: nil)
        }

        /// Whether `body` is `Response{id: 1, record_sync: {accepted: N}}` with nothing else:
        /// `08 01 1A len 08 varint(N)`.
        static func isCleanAcknowledgement(_ body: ByteBufferView) -> Bool {
            let bytes = Array(body)
            guard bytes.count >= 6, bytes[0] == 0x08, bytes[1] == 0x01, bytes[2] == 0x1A, bytes[4] == 0x08 else { return false }
            var end = 5
            while end < bytes.count, bytes[end] & 0x80 != 0 { end += 1 }
            return Int(bytes[3]) == end - 3 && end + 1 == bytes.count && bytes[5] != 0
        }

        /// Consumes one whole answer from `buffer`, or nothing when it has not fully arrived.
        private func takeAnswer(from buffer: inout ByteBuffer) throws -> Bool {
            switch wire {
            case .varint:
                guard let body = try FrameCodec.readFrame(from: &buffer, maxFrameSize: .max) else { return false }
                if checkAcknowledgements && !awaitingPreambleAnswer && !Self.isCleanAcknowledgement(body.readableBytesView) {
                    unexpected += 1
                }
                return true
            case .resp:
                // A SET is answered by one line: +OK or an -error.
                guard let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else { return false }
                buffer.moveReaderIndex(to: newline + 1)
                return true
            }
        }
    }
}
