import PiSyncStore

/// What reading the write-ahead log back found.
public struct LogScan: Sendable {
    /// A record cut short at the end of the last segment (a crash in mid-write), dropped.
    public struct TornTail: Sendable, Hashable {
        /// The segment.
        public var path: String
        /// Where the cut record starts; the segment is truncated here.
        public var offset: Int64
        /// Bytes after `offset`.
        public var bytesDropped: Int64
    }

    /// The segments, oldest first.
    public var segments: [LogSegment] = []
    /// The sequence number of the last whole record (0 when the log is empty).
    public var lastSequence: UInt64 = 0
    /// Records after the snapshot that were handed to the caller.
    public var replayedRecords = 0
    /// Events in those records.
    public var replayedEvents = 0
    /// Bytes of the last segment up to the end of its last whole record.
    public var lastSegmentLength: Int64 = 0
    /// The cut record at the end, if any.
    public var tornTail: TornTail?

    /// Reads every segment of `directory` in order, checks each record's checksum and that
    /// sequence numbers follow on, and hands the records after `snapshotSequence` to `replay`.
    ///
    /// - Throws: ``WriteAheadLogError/corrupt(path:offset:reason:)`` for damage anywhere but a
    ///   record cut short at the very end, or when records after the snapshot are missing;
    ///   ``WriteAheadLogError/unsupportedVersion(path:version:)`` for a newer segment.
    public static func read(
        directory: String, fileSystem: any StorageFileSystem = PosixFileSystem(), after snapshotSequence: UInt64,
        replay: (_ record: DecodedLogRecord) -> Void
    ) throws(WriteAheadLogError) -> LogScan {
        var scan = LogScan()
        do {
            scan.segments = try LogSegment.list(in: directory, fileSystem: fileSystem)
        } catch {
            if error.errno == 2 { return scan }  // ENOENT: no data directory yet
            throw .io(error)
        }
        var expected: UInt64? = nil
        for (index, segment) in scan.segments.enumerated() {
            let isLast = index == scan.segments.count - 1
            // A gap the snapshot covers is fine: a snapshot may include records that a crash
            // kept from reaching the log, and the next segment then starts after the snapshot.
            if let expected, segment.firstSequence != expected,
                segment.firstSequence < expected || segment.firstSequence > snapshotSequence + 1
            {
                throw .corrupt(
                    path: segment.path, offset: 0,
                    reason: "segment starts at record \(segment.firstSequence), expected \(expected): records are missing")
            }
            if expected == nil, segment.firstSequence > snapshotSequence + 1 {
                throw .corrupt(
                    path: segment.path, offset: 0,
                    reason: "the snapshot covers records up to \(snapshotSequence) but the log starts at "
                        + "\(segment.firstSequence): records \(snapshotSequence + 1)...\(segment.firstSequence - 1) are missing")
            }
            var next = segment.firstSequence
            // Records from the next segment's first on are superseded by it: after a disk fault
            // the writer rewrites what was not durable into a new segment before it cuts the
            // old one, so a crash in between leaves both, the old tail perhaps garbage.
            let supersededFrom = isLast ? nil : scan.segments[index + 1].firstSequence
            try scan.read(
                segment, isLast: isLast, supersededFrom: supersededFrom, next: &next, after: snapshotSequence,
                replay: replay)
            expected = next
        }
        return scan
    }

    private mutating func read(
        _ segment: LogSegment, isLast: Bool, supersededFrom: UInt64?, next: inout UInt64, after snapshotSequence: UInt64,
        replay: (_ record: DecodedLogRecord) -> Void
    ) throws(WriteAheadLogError) {
        do {
            guard var reader = try RecordFileReader(path: segment.path) else { return }
            guard let header = try reader.readRaw(LogSegment.headerSize) else {
                guard isLast else { throw WriteAheadLogError.corrupt(path: segment.path, offset: 0, reason: "segment header cut short") }
                tornTail = TornTail(path: segment.path, offset: 0, bytesDropped: reader.fileSize)
                lastSegmentLength = 0
                return
            }
            try Self.check(header, of: segment)
            while true {
                if let supersededFrom, next >= supersededFrom {
                    return  // the rest of this segment is in the next one
                }
                let offset = reader.offset
                let found = try reader.next()
                var zeroTail = false
                switch found {
                case .damaged, .record([]):
                    zeroTail = try isLast && Self.onlyZeros(in: segment.path, from: offset)
                default:
                    break
                }
                switch found {
                case .end:
                    lastSegmentLength = offset
                    return
                case .cutShort(let left) where isLast:
                    tornTail = TornTail(path: segment.path, offset: offset, bytesDropped: left)
                    lastSegmentLength = offset
                    return
                case .damaged(_, reachesEnd: true) where isLast:
                    tornTail = TornTail(path: segment.path, offset: offset, bytesDropped: reader.fileSize - offset)
                    lastSegmentLength = offset
                    return
                case .cutShort:
                    throw WriteAheadLogError.corrupt(path: segment.path, offset: offset, reason: "record cut short before the last segment")
                case .damaged where zeroTail, .record where zeroTail:
                    // A file extended before its data reached the disk (power loss on some
                    // file systems) ends in zeros: a torn tail, not damage.
                    tornTail = TornTail(path: segment.path, offset: offset, bytesDropped: reader.fileSize - offset)
                    lastSegmentLength = offset
                    return
                case .damaged(let reason, _):
                    throw WriteAheadLogError.corrupt(path: segment.path, offset: offset, reason: reason)
                case .record(let body):
                    try apply(body, at: offset, of: segment, next: &next, after: snapshotSequence, replay: replay)
                }
            }
        } catch let error as WriteAheadLogError {
            throw error
        } catch let error as StorageIOError {
            throw .io(error)
        } catch {
            throw .corrupt(path: segment.path, offset: 0, reason: "\(error)")
        }
    }

    private mutating func apply(
        _ body: [UInt8], at offset: Int64, of segment: LogSegment, next: inout UInt64, after snapshotSequence: UInt64,
        replay: (_ record: DecodedLogRecord) -> Void
    ) throws(WriteAheadLogError) {
        guard body.count >= 8 else { throw .corrupt(path: segment.path, offset: offset, reason: "record too short") }
        let sequence = body.withUnsafeBytes { UInt64(littleEndianAt: 0, of: $0) }
        guard sequence == next else {
            throw .corrupt(path: segment.path, offset: offset, reason: "record \(sequence) where \(next) was expected")
        }
        next += 1
        lastSequence = sequence
        guard sequence > snapshotSequence else { return }
        let decoded: DecodedLogRecord
        do {
            decoded = try LogRecordCodec.decode(body[8...])
        } catch {
            throw .corrupt(path: segment.path, offset: offset, reason: "record \(sequence) does not decode: \(error)")
        }
        replay(decoded)
        replayedRecords += 1
        replayedEvents += decoded.devices.reduce(0) { $0 + $1.events.count }
    }

    /// Whether every byte of `path` from `offset` to its end is zero.
    static func onlyZeros(in path: String, from offset: Int64) throws -> Bool {
        guard var reader = try RecordFileReader(path: path, startingAt: offset) else { return false }
        var left = reader.fileSize - offset
        while left > 0 {
            let count = Int(min(left, 1 << 20))
            guard let chunk = try reader.readRaw(count), chunk.allSatisfy({ $0 == 0 }) else { return false }
            left -= Int64(count)
        }
        return true
    }

    private static func check(_ header: [UInt8], of segment: LogSegment) throws(WriteAheadLogError) {
        guard Array(header[0..<8]) == LogSegment.magic else {
            throw .corrupt(path: segment.path, offset: 0, reason: "missing PISYNCWL header")
        }
        let version = header.withUnsafeBytes { UInt32(littleEndianAt: 8, of: $0) }
        guard (1...255).contains(version) else {
            throw .corrupt(path: segment.path, offset: 8, reason: "format version \(version) is not one any build wrote")
        }
        guard version <= LogSegment.formatVersion else {
            throw .unsupportedVersion(path: segment.path, version: version)
        }
    }
}
