import NIOCore
import PiSyncProtocol
import Testing

@Suite("Frame codec: varints and single frames")
struct FrameCodecTests {
    static let varints: [(UInt64, [UInt8])] = [
        (0, [0x00]),
        (1, [0x01]),
        (4, [0x04]),
        (127, [0x7F]),
        (128, [0x80, 0x01]),
        (300, [0xAC, 0x02]),
        (16_383, [0xFF, 0x7F]),
        (16_384, [0x80, 0x80, 0x01]),
        (1_048_576, [0x80, 0x80, 0x40]),
        (UInt64(UInt32.max), [0xFF, 0xFF, 0xFF, 0xFF, 0x0F]),
        (UInt64.max, [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]),
    ]

    @Test("varints are written as protobuf base-128", arguments: varints)
    func writesVarint(value: UInt64, expected: [UInt8]) {
        var buffer = ByteBuffer()
        FrameCodec.writeVarint(value, into: &buffer)
        #expect(Array(buffer.readableBytesView) == expected)
    }

    @Test("writeFrame prefixes the body with its length", arguments: [0, 1, 127, 128, 300, 16_384])
    func writeThenRead(size: Int) throws {
        let body = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
        var buffer = ByteBuffer()
        FrameCodec.writeFrame(body, into: &buffer)
        var expectedPrefix = ByteBuffer()
        FrameCodec.writeVarint(UInt64(size), into: &expectedPrefix)
        #expect(buffer.readableBytes == expectedPrefix.readableBytes + size)

        let frame = try #require(try FrameCodec.readFrame(from: &buffer, maxFrameSize: FrameCodec.defaultMaxFrameSize))
        #expect(Array(frame.readableBytesView) == body)
        #expect(buffer.readableBytes == 0)
    }

    @Test("an incomplete frame returns nil and consumes nothing, at every cut")
    func incompleteConsumesNothing() throws {
        var whole = ByteBuffer()
        FrameCodec.writeFrame([UInt8](repeating: 0xAB, count: 200), into: &whole)  // 2-byte prefix
        for cut in 0..<whole.readableBytes {
            var partial = whole.getSlice(at: whole.readerIndex, length: cut)!
            let reader = partial.readerIndex
            #expect(try FrameCodec.readFrame(from: &partial, maxFrameSize: 1 << 20) == nil, "cut at \(cut)")
            #expect(partial.readerIndex == reader)
            #expect(partial.readableBytes == cut)
        }
    }

    @Test("reads one frame at a time and leaves the rest")
    func leavesFollowingFrames() throws {
        var buffer = ByteBuffer()
        FrameCodec.writeFrame([1, 2, 3], into: &buffer)
        FrameCodec.writeFrame([UInt8](), into: &buffer)
        FrameCodec.writeFrame([4], into: &buffer)
        buffer.writeBytes([0x05, 0x00])  // start of a fourth frame
        let first = try #require(try FrameCodec.readFrame(from: &buffer, maxFrameSize: 10))
        #expect(Array(first.readableBytesView) == [1, 2, 3])
        let second = try #require(try FrameCodec.readFrame(from: &buffer, maxFrameSize: 10))
        #expect(second.readableBytes == 0)
        let third = try #require(try FrameCodec.readFrame(from: &buffer, maxFrameSize: 10))
        #expect(Array(third.readableBytesView) == [4])
        #expect(try FrameCodec.readFrame(from: &buffer, maxFrameSize: 10) == nil)
        #expect(Array(buffer.readableBytesView) == [0x05, 0x00])
    }

    @Test("a body of exactly the limit is accepted; one more byte is refused", arguments: [0, 1, 16, 1 << 20])
    func limitIsInclusive(limit: Int) throws {
        var atLimit = ByteBuffer()
        FrameCodec.writeFrame([UInt8](repeating: 1, count: limit), into: &atLimit)
        #expect(try FrameCodec.readFrame(from: &atLimit, maxFrameSize: limit)?.readableBytes == limit)

        var prefixOnly = ByteBuffer()
        FrameCodec.writeVarint(UInt64(limit) + 1, into: &prefixOnly)
        #expect(throws: FrameError.frameTooLarge(length: UInt64(limit) + 1, limit: limit)) {
            try FrameCodec.readFrame(from: &prefixOnly, maxFrameSize: limit)
        }
    }

    @Test("the largest 10-byte varint is a valid length that is too large")
    func maxVarintIsTooLarge() {
        var buffer = ByteBuffer(bytes: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01])
        #expect(throws: FrameError.frameTooLarge(length: .max, limit: 1 << 20)) {
            try FrameCodec.readFrame(from: &buffer, maxFrameSize: 1 << 20)
        }
    }

    @Test("a non-minimal varint is still read (padding with 0x80)")
    func nonMinimalVarint() throws {
        var buffer = ByteBuffer(bytes: [0x83, 0x80, 0x80, 0x00, 0xAA, 0xBB, 0xCC])  // 3 in 4 bytes
        let frame = try #require(try FrameCodec.readFrame(from: &buffer, maxFrameSize: 16))
        #expect(Array(frame.readableBytesView) == [0xAA, 0xBB, 0xCC])
    }

    static let malformed: [[UInt8]] = [
        [UInt8](repeating: 0x80, count: 10),  // unfinished after 10 bytes
        [UInt8](repeating: 0xFF, count: 11),
        [UInt8](repeating: 0x80, count: 10) + [0x00],  // an 11-byte varint
        [UInt8](repeating: 0xFF, count: 9) + [0x02],  // 10th byte carries more than bit 64
        [UInt8](repeating: 0x80, count: 9) + [0x7F],
        [UInt8](repeating: 0x80, count: 9) + [0x81],  // 10th byte asks for an 11th
    ]

    @Test("an over-long or over-64-bit varint is malformed", arguments: malformed)
    func malformedVarint(bytes: [UInt8]) {
        var buffer = ByteBuffer(bytes: bytes)
        #expect(throws: FrameError.malformedLength) {
            try FrameCodec.readFrame(from: &buffer, maxFrameSize: .max)
        }
    }

    @Test("nine continuation bytes are not yet malformed")
    func nineContinuationBytesWait() throws {
        var buffer = ByteBuffer(bytes: [UInt8](repeating: 0x80, count: 9))
        #expect(try FrameCodec.readFrame(from: &buffer, maxFrameSize: .max) == nil)
    }
}
