/// `pisync repair`: cuts the write-ahead log at its first damage so that the server can start,
/// and says exactly what that dropped.
public enum LogRepair {
    /// What a repair did.
    public struct Report: Sendable, CustomStringConvertible {
        /// The damage found, as recovery reported it; `nil` when the log was sound.
        public var damage: String?
        /// The segment cut, and where.
        public var truncated: (path: String, offset: Int64)?
        /// Later segments deleted.
        public var deletedSegments: [String] = []
        /// Sequence numbers of the readable records dropped, lowest and highest.
        public var droppedSequences: ClosedRange<UInt64>?
        /// Readable records dropped, and the events in them.
        public var droppedRecords = 0
        /// Events in the readable records dropped.
        public var droppedEvents = 0
        /// Damaged records dropped, whose events cannot be counted.
        public var unreadableRecords = 0
        /// A torn tail cut off (what the server would also drop at start).
        public var tornTail: LogScan.TornTail?

        public var description: String {
            guard let damage, let truncated else {
                if let tornTail {
                    return "log sound but for a torn last record: dropped \(tornTail.bytesDropped) bytes at offset "
                        + "\(tornTail.offset) of \(tornTail.path)"
                }
                return "log sound: nothing to repair"
            }
            var lines = ["damage: \(damage)", "truncated \(truncated.path) at offset \(truncated.offset)"]
            if !deletedSegments.isEmpty { lines.append("deleted later segments: \(deletedSegments.joined(separator: ", "))") }
            let range = droppedSequences.map { "sequence numbers \($0.lowerBound)...\($0.upperBound)" } ?? "no readable records"
            lines.append("dropped \(range): \(droppedRecords) records, \(droppedEvents) events")
            if unreadableRecords > 0 { lines.append("and \(unreadableRecords) damaged records whose events cannot be counted") }
            return lines.joined(separator: "\n")
        }
    }

    /// Repairs the log of `directory`: truncates at the first damaged record and deletes the
    /// segments after it; cuts a torn last record.
    public static func repair(directory: String, fileSystem: any StorageFileSystem = PosixFileSystem()) throws -> Report {
        var report = Report()
        do {
            let snapshotSequence = try SnapshotFile(directory: directory).coveredLogSequence()
            let scan = try LogScan.read(directory: directory, fileSystem: fileSystem, after: snapshotSequence) { _ in }
            if let torn = scan.tornTail {
                try cut(torn.path, at: torn.offset, fileSystem: fileSystem)
                report.tornTail = torn
            }
            return report
        } catch WriteAheadLogError.corrupt(let path, let offset, let reason) {
            report.damage = "\(path) at offset \(offset): \(reason)"
            report.truncated = (path, offset)
            let segments = try LogSegment.list(in: directory, fileSystem: fileSystem)
            var after = false
            for segment in segments {
                if segment.path == path {
                    after = true
                    try count(segment.path, from: max(offset, Int64(LogSegment.headerSize)), into: &report)
                    if offset <= Int64(LogSegment.headerSize) {
                        try fileSystem.remove(segment.path)
                    } else {
                        try cut(segment.path, at: offset, fileSystem: fileSystem)
                    }
                } else if after {
                    try count(segment.path, from: Int64(LogSegment.headerSize), into: &report)
                    try fileSystem.remove(segment.path)
                    report.deletedSegments.append(segment.path)
                }
            }
            try fileSystem.syncDirectory(directory)
            return report
        }
    }

    private static func cut(_ path: String, at offset: Int64, fileSystem: any StorageFileSystem) throws {
        let descriptor = try fileSystem.openForAppend(path)
        defer { fileSystem.close(descriptor) }
        try fileSystem.truncate(descriptor, to: offset, path: path)
        try fileSystem.sync(descriptor, path: path)
    }

    /// Counts the records of `path` from `offset` on, stepping over damaged ones.
    private static func count(_ path: String, from offset: Int64, into report: inout Report) throws {
        guard var reader = try RecordFileReader(path: path, startingAt: offset) else { return }
        while true {
            switch try reader.next() {
            case .end, .cutShort:
                return
            case .damaged:
                report.unreadableRecords += 1
                guard try reader.skipRecord() else { return }
            case .record(let body):
                guard body.count >= 8, let decoded = try? LogRecordCodec.decode(body[8...]) else {
                    report.unreadableRecords += 1
                    continue
                }
                let sequence = body.withUnsafeBytes { UInt64(littleEndianAt: 0, of: $0) }
                let low = min(report.droppedSequences?.lowerBound ?? sequence, sequence)
                let high = max(report.droppedSequences?.upperBound ?? sequence, sequence)
                report.droppedSequences = low...high
                report.droppedRecords += 1
                report.droppedEvents += decoded.devices.reduce(0) { $0 + $1.events.count }
            }
        }
    }
}
