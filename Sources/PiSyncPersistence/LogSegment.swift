/// One file of the write-ahead log: `wal-<first sequence number, 20 digits>.log`, a 16-byte
/// header (magic `PISYNCWL`, format version UInt32 LE, 4 reserved zero bytes), then framed
/// records whose bodies are the sequence number (UInt64 LE) and a serialized `LogRecord`.
public struct LogSegment: Sendable, Hashable {
    /// The format version this build writes and reads.
    public static let formatVersion: UInt32 = 1
    static let magic = Array("PISYNCWL".utf8)
    static let headerSize = 16

    /// The sequence number of the segment's first record (of the next one, while it is empty).
    public var firstSequence: UInt64
    /// The segment's path.
    public var path: String

    /// Names the segment of `directory` starting at `firstSequence`.
    public init(directory: String, firstSequence: UInt64) {
        self.firstSequence = firstSequence
        self.path = directory + "/" + Self.fileName(firstSequence)
    }

    static func fileName(_ firstSequence: UInt64) -> String {
        let digits = String(firstSequence)
        return "wal-" + String(repeating: "0", count: max(0, 20 - digits.count)) + digits + ".log"
    }

    /// The sequence number in a segment's file name, or `nil` for another file.
    static func firstSequence(inFileName name: String) -> UInt64? {
        guard name.hasPrefix("wal-"), name.hasSuffix(".log"), name.count == 28 else { return nil }
        return UInt64(name.dropFirst(4).dropLast(4))
    }

    /// The segments of `directory`, oldest first.
    static func list(in directory: String, fileSystem: any StorageFileSystem) throws(StorageIOError) -> [LogSegment] {
        try fileSystem.fileNames(in: directory)
            .compactMap { name in firstSequence(inFileName: name).map { LogSegment(directory: directory, firstSequence: $0) } }
            .sorted { $0.firstSequence < $1.firstSequence }
    }

    /// How many of `segments` (oldest first) hold only records at or below `sequence`: those
    /// whose successor starts at or below `sequence + 1`. The last segment never counts.
    static func coveredCount(of segments: [LogSegment], by sequence: UInt64) -> Int {
        zip(segments, segments.dropFirst()).prefix { $0.1.firstSequence <= sequence + 1 }.count
    }

    /// Deletes `segments` from `directory` and makes the deletion durable.
    static func remove(_ segments: [LogSegment], from directory: String, fileSystem: any StorageFileSystem) throws(StorageIOError) {
        guard !segments.isEmpty else { return }
        for segment in segments {
            try fileSystem.remove(segment.path)
        }
        try fileSystem.syncDirectory(directory)
    }

    /// The header every segment starts with.
    static var header: [UInt8] {
        magic + formatVersion.littleEndianBytes + [0, 0, 0, 0]
    }

    /// The body of a record: its sequence number, then `payload`.
    static func appendRecord(sequence: UInt64, payload: [UInt8], to buffer: inout [UInt8]) {
        let checksum = withUnsafeBytes(of: sequence.littleEndian) { sequenceBytes in
            payload.withUnsafeBytes { CRC32.update(CRC32.update(0, sequenceBytes), $0) }
        }
        RecordFrame.appendHeader(length: 8 + payload.count, checksum: checksum, to: &buffer)
        withUnsafeBytes(of: sequence.littleEndian) { buffer.append(contentsOf: $0) }
        buffer.append(contentsOf: payload)
    }
}
