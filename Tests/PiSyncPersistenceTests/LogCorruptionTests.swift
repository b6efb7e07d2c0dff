import PiSyncTestSupport
import Foundation
import PiSyncPersistence
import PiSyncStore
import Testing

@Suite("Write-ahead log corruption and repair")
struct LogCorruptionTests {
    /// Eight records, sequence numbers 1...8, one event each.
    static let calls = workload(calls: 8, devices: 3)

    /// Writes `calls` to a new log in `directory`, one record at a time, and closes it.
    /// - Returns: each segment with its records.
    func writeLog(_ directory: String, segmentBytes: Int = 16 << 20) async throws -> [(path: String, records: [FramedRecord])] {
        let logged = try LoggedStore(directory) { $0.segmentBytes = segmentBytes }
        for call in Self.calls {
            logged.store.record(call, now: testNow)
            await logged.waitUntilDurable()
        }
        await logged.log.close()
        return try segmentPaths(in: directory).map { ($0, framedRecords(in: try readBytes($0))) }
    }

    /// Expects `body` to throw ``WriteAheadLogError/corrupt(path:offset:reason:)`` naming `path` and `offset`.
    func expectCorrupt(
        path: String, offset: Int, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void
    ) {
        let error = #expect(throws: WriteAheadLogError.self, sourceLocation: sourceLocation) { try body() }
        guard case .corrupt(let foundPath, let foundOffset, _) = error else {
            Issue.record("expected .corrupt, got \(String(describing: error))", sourceLocation: sourceLocation)
            return
        }
        #expect(foundPath == path, sourceLocation: sourceLocation)
        #expect(foundOffset == Int64(offset), "\(String(describing: error))", sourceLocation: sourceLocation)
    }

    func setVersion(_ version: UInt32, of path: String) throws {
        var bytes = try readBytes(path)
        bytes.replaceSubrange(8..<12, with: littleEndian(version))
        try writeBytes(bytes, to: path)
    }

    func flipBodyByte(of record: FramedRecord, in path: String) throws {
        var bytes = try readBytes(path)
        bytes[record.offset + 8 + record.length / 2] ^= 0x04
        try writeBytes(bytes, to: path)
    }

    /// Recovers `directory` and expects the first `count` calls and nothing else; appending goes on.
    func expectRecovers(_ directory: String, records count: Int, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let logged = try LoggedStore(directory)
        #expect(logged.report.tornTail == nil, sourceLocation: sourceLocation)
        #expect(logged.report.lastSequence == UInt64(count), sourceLocation: sourceLocation)
        #expect(logged.store.observableState == referenceState(Array(Self.calls.prefix(count))), sourceLocation: sourceLocation)
        logged.store.record([event("after-repair", .success, at: 1)], now: testNow)
        await logged.waitUntilDurable()
        #expect(logged.log.appendedSequence == UInt64(count + 1), sourceLocation: sourceLocation)
        await logged.log.close()
    }

    @Test("a damaged record before the end is corrupt; repair cuts there and says what it dropped", arguments: [0, 3, 6])
    func damagedRecord(index: Int) async throws {
        try await withAsyncScratch { directory in
            let segments = try await writeLog(directory)
            #expect(segments.count == 1)
            let (path, records) = segments[0]
            #expect(records.map(sequenceNumber) == Array(1...8))
            let damaged = records[index]
            try flipBodyByte(of: damaged, in: path)
            let before = try readBytes(path)

            expectCorrupt(path: path, offset: damaged.offset) { _ = try LoggedStore(directory) }
            #expect(try readBytes(path) == before, "a failed recovery modifies nothing")
            expectCorrupt(path: path, offset: damaged.offset) { _ = try scanLog(directory) }

            let report = try LogRepair.repair(directory: directory)
            #expect(report.damage != nil)
            #expect(report.truncated?.path == path)
            #expect(report.truncated?.offset == Int64(damaged.offset))
            #expect(report.deletedSegments.isEmpty)
            // The damaged record (sequence index + 1) cannot be read; those after it can.
            #expect(report.unreadableRecords == 1)
            #expect(report.droppedSequences == UInt64(index + 2)...8)
            #expect(report.droppedRecords == 7 - index)
            #expect(report.droppedEvents == 7 - index)
            if index == 0 {
                #expect(!FileManager.default.fileExists(atPath: path), "a segment with no record left is deleted")
            } else {
                #expect(try readBytes(path) == Array(before[..<damaged.offset]))
            }
            try await expectRecovers(directory, records: index)
        }
    }

    @Test("a damaged record at the end of a segment that is not the last is corrupt, not a torn tail")
    func damagedRecordInEarlierSegment() async throws {
        try await withAsyncScratch { directory in
            let segments = try await writeLog(directory, segmentBytes: 120)
            #expect(segments.count >= 3)
            let (path, records) = segments[0]
            let damaged = try #require(records.last)
            let damagedSequence = Int(sequenceNumber(of: damaged))
            #expect(damaged.end == (try readBytes(path)).count)
            try flipBodyByte(of: damaged, in: path)

            expectCorrupt(path: path, offset: damaged.offset) { _ = try LoggedStore(directory) }

            let report = try LogRepair.repair(directory: directory)
            #expect(report.truncated?.path == path)
            #expect(report.truncated?.offset == Int64(damaged.offset))
            #expect(report.deletedSegments == segments.dropFirst().map(\.path))
            #expect(report.unreadableRecords == 1)
            #expect(report.droppedSequences == UInt64(damagedSequence + 1)...8)
            #expect(report.droppedRecords == 8 - damagedSequence)
            #expect(report.droppedEvents == 8 - damagedSequence)
            #expect(try segmentPaths(in: directory) == [path])
            try await expectRecovers(directory, records: damagedSequence - 1)
        }
    }

    @Test("a segment that is not the last cut short is corrupt")
    func earlierSegmentCutShort() async throws {
        try await withAsyncScratch { directory in
            let segments = try await writeLog(directory, segmentBytes: 120)
            let (path, records) = segments[0]
            let last = try #require(records.last)
            try writeBytes(Array(try readBytes(path)[..<(last.end - 2)]), to: path)
            expectCorrupt(path: path, offset: last.offset) { _ = try LoggedStore(directory) }
        }
    }

    @Test("a missing segment in the middle is corrupt")
    func missingSegment() async throws {
        try await withAsyncScratch { directory in
            let segments = try await writeLog(directory, segmentBytes: 120)
            #expect(segments.count >= 3)
            try FileManager.default.removeItem(atPath: segments[1].path)
            expectCorrupt(path: segments[2].path, offset: 0) { _ = try LoggedStore(directory) }
        }
    }

    @Test("a segment from a newer format is refused and left alone", arguments: [UInt32(2), 255], [true, false])
    func unsupportedVersion(version: UInt32, lastSegment: Bool) async throws {
        try await withAsyncScratch { directory in
            let segments = try await writeLog(directory, segmentBytes: 120)
            let path = lastSegment ? segments[segments.count - 1].path : segments[0].path
            try setVersion(version, of: path)
            let bytes = try readBytes(path)

            for attempt in ["recover", "scan", "repair"] {
                let error = #expect(throws: WriteAheadLogError.self, "\(attempt)") {
                    switch attempt {
                    case "recover": _ = try LoggedStore(directory)
                    case "scan": _ = try scanLog(directory)
                    default: _ = try LogRepair.repair(directory: directory)
                    }
                }
                guard case .unsupportedVersion(let foundPath, let foundVersion) = error else {
                    Issue.record("\(attempt): expected .unsupportedVersion, got \(String(describing: error))")
                    continue
                }
                #expect(foundPath == path)
                #expect(foundVersion == version)
            }
            #expect(try readBytes(path) == bytes)
            #expect(try segmentPaths(in: directory) == segments.map(\.path))
        }
    }

    @Test("a segment version no build wrote is damage; repair drops that segment", arguments: [UInt32(0), 256, .max])
    func implausibleVersion(version: UInt32) async throws {
        try await withAsyncScratch { directory in
            let segments = try await writeLog(directory, segmentBytes: 120)
            #expect(segments.count >= 3)
            let first = segments[0].path
            try setVersion(version, of: first)
            expectCorrupt(path: first, offset: 8) { _ = try LoggedStore(directory) }
            try setVersion(LogSegment.formatVersion, of: first)

            let (last, lastRecords) = segments[segments.count - 1]
            try setVersion(version, of: last)
            expectCorrupt(path: last, offset: 8) { _ = try scanLog(directory) }

            let report = try LogRepair.repair(directory: directory)
            #expect(report.truncated?.path == last)
            #expect(report.truncated?.offset == 8)
            #expect(!FileManager.default.fileExists(atPath: last))
            let dropped = lastRecords.map(sequenceNumber)
            #expect(report.droppedSequences == dropped.first.map { $0...dropped[dropped.count - 1] })
            #expect(report.droppedRecords == lastRecords.count)
            try await expectRecovers(directory, records: 8 - lastRecords.count)
        }
    }

    @Test("a segment without the magic is corrupt at offset 0")
    func missingMagic() async throws {
        try await withAsyncScratch { directory in
            let segments = try await writeLog(directory, segmentBytes: 120)
            var bytes = try readBytes(segments[0].path)
            bytes[0] = UInt8(ascii: "X")
            try writeBytes(bytes, to: segments[0].path)
            expectCorrupt(path: segments[0].path, offset: 0) { _ = try LoggedStore(directory) }
        }
    }
}
