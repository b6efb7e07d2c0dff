import NIOCore

/// Splits a connection's bytes into frame bodies (see ``FrameCodec``).
///
/// A declared length over `maxFrameSize` or a broken varint is an error at once: the
/// pipeline reports ``FrameError`` and never buffers the oversized body.
public struct FrameDecoder: ByteToMessageDecoder, Sendable {
    public typealias InboundOut = ByteBuffer

    /// The largest frame body accepted, in bytes.
    public let maxFrameSize: Int

    /// Creates a decoder; the default limit is 1 MiB.
    public init(maxFrameSize: Int = FrameCodec.defaultMaxFrameSize) {
        self.maxFrameSize = maxFrameSize
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try FrameCodec.readFrame(from: &buffer, maxFrameSize: maxFrameSize) else {
            return .needMoreData
        }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    /// Delivers the frames that are complete; bytes of a frame cut off by the end of input
    /// are reported as `ByteToMessageDecoderError.leftoverDataWhenDone`.
    public mutating func decodeLast(
        context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool
    ) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        if buffer.readableBytes > 0 {
            let leftover = buffer
            buffer.moveReaderIndex(to: buffer.writerIndex)
            throw ByteToMessageDecoderError.leftoverDataWhenDone(leftover)
        }
        return .needMoreData
    }
}
