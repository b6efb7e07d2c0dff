import NIOCore

/// Protobuf's delimited framing: each message is preceded by its length as a base-128 varint
/// (as Java's `writeDelimitedTo` and swift-protobuf's `BinaryDelimited`).
public enum FrameCodec {
    /// The longest varint: 10 bytes carry 64 bits.
    public static let maxVarintLength = 10
    /// The default limit on a frame's body, 1 MiB.
    public static let defaultMaxFrameSize = 1 << 20

    /// Removes one whole frame from the front of `buffer` and returns its body, or returns `nil`
    /// (consuming nothing) when the frame has not fully arrived.
    /// - Throws: ``FrameError`` as soon as the length prefix is invalid or over `maxFrameSize`,
    ///   before any of the body is read.
    public static func readFrame(from buffer: inout ByteBuffer, maxFrameSize: Int) throws(FrameError) -> ByteBuffer? {
        guard let (length, prefixLength) = try peekVarint(in: buffer) else { return nil }
        guard length <= UInt64(maxFrameSize) else {
            throw .frameTooLarge(length: length, limit: maxFrameSize)
        }
        let bodyLength = Int(length)
        guard buffer.readableBytes - prefixLength >= bodyLength else { return nil }
        buffer.moveReaderIndex(forwardBy: prefixLength)
        return buffer.readSlice(length: bodyLength)
    }

    /// Appends `body`'s length as a varint, then `body`.
    public static func writeFrame(_ body: some Collection<UInt8>, into buffer: inout ByteBuffer) {
        writeVarint(UInt64(body.count), into: &buffer)
        buffer.writeBytes(body)
    }

    /// Appends `value` as a base-128 varint.
    public static func writeVarint(_ value: UInt64, into buffer: inout ByteBuffer) {
        var remaining = value
        while remaining >= 0x80 {
            buffer.writeInteger(UInt8(truncatingIfNeeded: remaining) | 0x80)
            remaining >>= 7
        }
        buffer.writeInteger(UInt8(remaining))
    }

    /// Reads a varint at the buffer's reader index without consuming it: its value and its
    /// length in bytes, or `nil` when it has not fully arrived.
    static func peekVarint(in buffer: ByteBuffer) throws(FrameError) -> (UInt64, Int)? {
        var value: UInt64 = 0
        let bytes = buffer.readableBytesView
        for (offset, byte) in bytes.prefix(maxVarintLength).enumerated() {
            let payload = UInt64(byte & 0x7F)
            if offset == maxVarintLength - 1 && payload > 1 {
                throw .malformedLength  // the 10th byte may only carry the 64th bit
            }
            value |= payload << (7 * UInt64(offset))
            if byte & 0x80 == 0 {
                return (value, offset + 1)
            }
        }
        if bytes.count >= maxVarintLength {
            throw .malformedLength
        }
        return nil
    }
}
