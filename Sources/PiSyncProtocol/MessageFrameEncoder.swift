import NIOCore
import SwiftProtobuf

/// Serializes outbound protobuf messages as delimited frames.
public struct MessageFrameEncoder<Message: SwiftProtobuf.Message>: MessageToByteEncoder, Sendable {
    public typealias OutboundIn = Message

    /// Creates an encoder.
    public init() {}

    public func encode(data: Message, out: inout ByteBuffer) throws {
        let body: [UInt8] = try data.serializedBytes()
        FrameCodec.writeFrame(body, into: &out)
    }
}
