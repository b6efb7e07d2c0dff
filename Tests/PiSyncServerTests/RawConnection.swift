import NIOCore
import NIOPosix
import PiSyncProtocol

/// A bare TCP connection to the server for sending hand-made bytes and reading every frame,
/// the way a client of another implementation would.
final class RawConnection: Sendable {
    let channel: any Channel
    let responses: AsyncThrowingStream<Pisync_V1_Response, any Error>

    private init(channel: any Channel, responses: AsyncThrowingStream<Pisync_V1_Response, any Error>) {
        self.channel = channel
        self.responses = responses
    }

    /// Connects; with `autoRead` false the connection reads nothing until ``startReading()``,
    /// and `receiveBuffer` shrinks the socket's receive buffer (a slow subscriber).
    static func connect(port: Int, autoRead: Bool = true, receiveBuffer: Int? = nil) async throws -> RawConnection {
        let (responses, continuation) = AsyncThrowingStream<Pisync_V1_Response, any Error>.makeStream()
        var bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.autoRead, value: autoRead)
        if let receiveBuffer {
            bootstrap = bootstrap.channelOption(.socketOption(.so_rcvbuf), value: SocketOptionValue(receiveBuffer))
        }
        let channel = try await bootstrap
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers(
                        ByteToMessageHandler(FrameDecoder(maxFrameSize: 16 << 20)),
                        ResponseCollector(continuation: continuation))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return RawConnection(channel: channel, responses: responses)
    }

    /// Sends `request` as one frame.
    func send(_ request: Pisync_V1_Request) async throws {
        try await sendBody(try request.serializedBytes())
    }

    /// Sends `body` with a correct length prefix.
    func sendBody(_ body: [UInt8]) async throws {
        var buffer = channel.allocator.buffer(capacity: body.count + 10)
        FrameCodec.writeFrame(body, into: &buffer)
        try await channel.writeAndFlush(buffer)
    }

    /// Writes `requests` as frames in one buffer without waiting for the write to finish: a
    /// server that stops reading this connection leaves them in the kernel's buffers.
    func pipeline(_ requests: some Sequence<Pisync_V1_Request>) throws {
        var buffer = channel.allocator.buffer(capacity: 64 << 10)
        for request in requests {
            FrameCodec.writeFrame(try request.serializedBytes() as [UInt8], into: &buffer)
        }
        channel.writeAndFlush(buffer, promise: nil)
    }

    /// Sends raw bytes, framing and all.
    func sendRaw(_ bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(channel.allocator.buffer(bytes: bytes))
    }

    /// Turns reading on (for a connection made with `autoRead` false).
    func startReading() async throws {
        try await channel.setOption(.autoRead, value: true).get()
        channel.read()
    }

    /// The next response, or `nil` when the connection closed.
    func next() async throws -> Pisync_V1_Response? {
        var iterator = responses.makeAsyncIterator()
        return try await iterator.next()
    }

    func close() async {
        try? await channel.close()
    }
}

private final class ResponseCollector: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    let continuation: AsyncThrowingStream<Pisync_V1_Response, any Error>.Continuation

    init(continuation: AsyncThrowingStream<Pisync_V1_Response, any Error>.Continuation) {
        self.continuation = continuation
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        do {
            continuation.yield(try Pisync_V1_Response(serializedBytes: frame.readableBytesSpan))
        } catch {
            continuation.finish(throwing: error)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        continuation.finish()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        continuation.finish(throwing: error)
        context.close(promise: nil)
    }
}
