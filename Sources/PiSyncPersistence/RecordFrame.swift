/// The frame around every record in a snapshot or log file: the body's length and its CRC-32,
/// both UInt32 little-endian, then the body.
///
/// A reader can tell a record cut short (fewer bytes left than the frame says) from a damaged
/// one (the checksum does not match), which is what recovery's rules turn on.
enum RecordFrame {
    /// Bytes before the body.
    static let headerSize = 8
    /// The largest body a writer produces; a larger length is damage, not a torn write.
    static let maxBodySize = 64 << 20

    /// Appends `body` framed to `buffer`.
    static func append(_ body: UnsafeRawBufferPointer, to buffer: inout [UInt8]) {
        appendHeader(length: body.count, checksum: CRC32.update(0, body), to: &buffer)
        buffer.append(contentsOf: body)
    }

    /// Appends a header for a body of `length` bytes with `checksum`.
    static func appendHeader(length: Int, checksum: UInt32, to buffer: inout [UInt8]) {
        withUnsafeBytes(of: UInt32(length).littleEndian) { buffer.append(contentsOf: $0) }
        withUnsafeBytes(of: checksum.littleEndian) { buffer.append(contentsOf: $0) }
    }
}

extension FixedWidthInteger {
    /// Reads a little-endian integer from the start of `bytes`.
    init(littleEndianAt offset: Int, of bytes: UnsafeRawBufferPointer) {
        self.init(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: Self.self))
    }

    /// The integer's little-endian bytes.
    var littleEndianBytes: [UInt8] {
        withUnsafeBytes(of: littleEndian) { Array($0) }
    }
}
