import PiSyncTestSupport
import Foundation
import PiSyncPersistence
import PiSyncStore
import Testing

@Suite("Write-ahead log torn tail")
struct TornTailTests {
    /// Six records, sequence numbers 1...6.
    static let calls = workload(calls: 6, devices: 2)

    /// Writes `calls` to a new log in `directory` and closes it.
    /// - Returns: the last segment, its bytes and its records.
    func writeLog(
        _ directory: String, configure: (inout WriteAheadLog.Configuration) -> Void = { _ in }
    ) async throws -> (path: String, bytes: [UInt8], records: [FramedRecord]) {
        let logged = try LoggedStore(directory, configure: configure)
        for call in Self.calls { logged.store.record(call, now: testNow) }
        await logged.waitUntilDurable()
        await logged.log.close()
        let path = try #require(try segmentPaths(in: directory).last)
        let bytes = try readBytes(path)
        return (path, bytes, framedRecords(in: bytes))
    }

    func expectTornTail(
        _ report: RecoveryReport, path: String, offset: Int, dropped: Int, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        guard let torn = report.tornTail else {
            Issue.record("no torn tail reported", sourceLocation: sourceLocation)
            return
        }
        #expect(torn.path == path, sourceLocation: sourceLocation)
        #expect(torn.offset == Int64(offset), sourceLocation: sourceLocation)
        #expect(torn.bytesDropped == Int64(dropped), sourceLocation: sourceLocation)
    }

    @Test("the last record cut at any byte is dropped as a torn tail, and every record before it recovers")
    func cutAnywhereInLastRecord() async throws {
        try await withAsyncScratch { directory in
            let (path, bytes, records) = try await writeLog(directory)
            #expect(records.map(sequenceNumber) == Array(1...6))
            let last = try #require(records.last)
            #expect(last.end == bytes.count)
            let expected = referenceState(Array(Self.calls.dropLast()))
            for length in last.offset + 1..<last.end {
                try writeBytes(Array(bytes[..<length]), to: path)
                let logged = try LoggedStore(directory)
                expectTornTail(logged.report, path: path, offset: last.offset, dropped: length - last.offset)
                #expect(logged.report.lastSequence == 5, "cut at \(length)")
                #expect(logged.report.replayedRecords == 5, "cut at \(length)")
                #expect(logged.store.observableState == expected, "cut at \(length)")
                await logged.log.close()
                #expect(try readBytes(path) == Array(bytes[..<last.offset]), "the torn part is cut off")
            }
        }
    }

    @Test("a log cut between records has no torn tail")
    func cutAtRecordBoundary() async throws {
        try await withAsyncScratch { directory in
            let (path, bytes, records) = try await writeLog(directory)
            try writeBytes(Array(bytes[..<records[4].offset]), to: path)
            let logged = try LoggedStore(directory)
            #expect(logged.report.tornTail == nil)
            #expect(logged.report.lastSequence == 4)
            #expect(logged.store.observableState == referenceState(Array(Self.calls.prefix(4))))
            await logged.log.close()
        }
    }

    @Test("appending continues after a torn tail, and the next recovery sees the new records")
    func appendAfterTornTail() async throws {
        try await withAsyncScratch { directory in
            let (path, bytes, records) = try await writeLog(directory)
            let last = try #require(records.last)
            try writeBytes(Array(bytes[..<(last.offset + last.length / 2)]), to: path)

            let more = workload(calls: 5, devices: 3, startingAt: 50)
            let second = try LoggedStore(directory)
            #expect(second.report.tornTail != nil)
            for call in more { second.store.record(call, now: testNow) }
            await second.waitUntilDurable()
            #expect(second.log.appendedSequence == 10, "numbering resumes after the last whole record")
            await second.log.close()

            let third = try LoggedStore(directory)
            #expect(third.report.tornTail == nil)
            #expect(third.report.lastSequence == 10)
            #expect(third.report.replayedRecords == 10)
            #expect(third.store.observableState == referenceState(Self.calls.dropLast() + more))
            await third.log.close()
            #expect(try framedRecords(in: readBytes(path)).map(sequenceNumber) == Array(1...10))
        }
    }

    // Positions in the last record: its checksum field, sequence number, payload, last byte.
    @Test("a checksum mismatch in the record that ends the log is a torn tail", arguments: [4, 8, 12, -1])
    func damagedLastRecord(position: Int) async throws {
        try await withAsyncScratch { directory in
            let (path, bytes, records) = try await writeLog(directory)
            let last = try #require(records.last)
            var damaged = bytes
            damaged[position < 0 ? bytes.count + position : last.offset + position] ^= 0x01
            try writeBytes(damaged, to: path)

            let logged = try LoggedStore(directory)
            expectTornTail(logged.report, path: path, offset: last.offset, dropped: last.end - last.offset)
            #expect(logged.store.observableState == referenceState(Array(Self.calls.dropLast())))
            await logged.log.close()
        }
    }

    @Test("a segment whose header is cut short ends the log as a torn tail", arguments: [0, 1, 8, 15])
    func cutSegmentHeader(length: Int) async throws {
        try await withAsyncScratch { directory in
            // One record per segment: the last segment is a bare header after the last roll.
            let (path, bytes, records) = try await writeLog(directory) { $0.segmentBytes = 1 }
            #expect(records.isEmpty)
            #expect(bytes.count == 16)
            try writeBytes(Array(bytes.prefix(length)), to: path)

            let logged = try LoggedStore(directory) { $0.segmentBytes = 1 }
            expectTornTail(logged.report, path: path, offset: 0, dropped: length)
            #expect(logged.report.lastSequence == 6)
            #expect(logged.store.observableState == referenceState(Self.calls))
            logged.store.record([event("after", .success, at: 1)], now: testNow)
            await logged.waitUntilDurable()
            await logged.log.close()

            let (scan, events) = try scanLog(directory)
            #expect(scan.tornTail == nil)
            #expect(scan.lastSequence == 7)
            #expect(events.last == [event("after", .success, at: 1)])
        }
    }

    @Test("repair cuts a torn tail and reports it as such")
    func repairTornTail() async throws {
        try await withAsyncScratch { directory in
            let (path, bytes, records) = try await writeLog(directory)
            let last = try #require(records.last)
            try writeBytes(Array(bytes[..<(last.end - 3)]), to: path)
            let report = try LogRepair.repair(directory: directory)
            #expect(report.damage == nil)
            #expect(report.tornTail?.offset == Int64(last.offset))
            #expect(report.tornTail?.bytesDropped == Int64(last.length + 8 - 3))
            #expect(report.droppedRecords == 0)
            #expect(try readBytes(path) == Array(bytes[..<last.offset]))
            #expect(try scanLog(directory).scan.tornTail == nil)
        }
    }

    // Regression (review): a file extended before its data reached the disk ends in zeros; a
    // zero frame reads as an empty record, which was taken for damage and refused.
    @Test("zeros after the last record are a torn tail, whatever their length", arguments: [1, 8, 4096])
    func zeroFilledTail(zeros: Int) async throws {
        try await withAsyncScratch { directory in
            let (path, bytes, _) = try await writeLog(directory)
            try writeBytes(bytes + [UInt8](repeating: 0, count: zeros), to: path)
            let logged = try LoggedStore(directory)
            expectTornTail(logged.report, path: path, offset: bytes.count, dropped: zeros)
            #expect(logged.store.observableState == referenceState(Self.calls))
            await logged.log.close()
        }
    }

    @Test("zeros followed by anything else are still damage")
    func zerosThenData() async throws {
        try await withAsyncScratch { directory in
            let (path, bytes, _) = try await writeLog(directory)
            try writeBytes(bytes + [UInt8](repeating: 0, count: 16) + [1], to: path)
            #expect(throws: WriteAheadLogError.self) { try LoggedStore(directory) }
        }
    }
}
