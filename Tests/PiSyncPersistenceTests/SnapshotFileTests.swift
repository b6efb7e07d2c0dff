import PiSyncTestSupport
import Foundation
@testable import PiSyncPersistence
import PiSyncStore
import Testing

@Suite("Snapshot file")
struct SnapshotFileTests {
    /// "pi" F F (alert 1 at threshold 2), "pi-2" S.
    static func sampleStore() -> SyncStore {
        let store = AlertCollector().makeStore(threshold: 2)
        store.recordEach([event("pi", .failed, at: 1), event("pi", .failed, at: 2), event("pi-2", .success, at: 1)])
        return store
    }

    /// The bytes of `sampleStore()`'s snapshot (log sequence 17), and its records.
    static let sample: (bytes: [UInt8], records: [FramedRecord]) = {
        // The write cannot fail in a fresh temp directory.
        let bytes = try! withScratch { directory in
            let file = SnapshotFile(directory: directory)
            _ = try file.write(sampleStore(), logSequence: 17, takenAt: testNow)
            return try readBytes(file.path)
        }
        return (bytes, framedRecords(in: bytes))
    }()

    /// Loads `bytes` as a snapshot into a fresh store. (A load costs ~0.1 s in a debug build:
    /// the reader zero-fills a 1 MiB buffer; the damage tests pick their positions.)
    func load(_ bytes: [UInt8]) throws -> SnapshotSummary? {
        try withScratch { directory in
            try PosixFileSystem().createDirectories(directory)
            let file = SnapshotFile(directory: directory)
            try writeBytes(bytes, to: file.path)
            return try file.load(into: SyncStore())
        }
    }

    /// Expects `.corrupt` naming the snapshot's path and `offset` for `sample` edited by `damage`.
    func expectCorrupt(
        at offset: Int, _ damage: (inout [UInt8]) -> Void, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        var bytes = Self.sample.bytes
        damage(&bytes)
        let error = #expect(throws: SnapshotError.self, sourceLocation: sourceLocation) { try load(bytes) }
        guard case .corrupt(let path, let found, _) = error else {
            Issue.record("expected .corrupt, got \(String(describing: error))", sourceLocation: sourceLocation)
            return
        }
        #expect(path.hasSuffix("/snapshot.pisync"), sourceLocation: sourceLocation)
        #expect(found == Int64(offset), "\(String(describing: error))", sourceLocation: sourceLocation)
    }

    @Test("write then load restores the store and reports what the file holds")
    func roundTrip() throws {
        try withScratch { directory in
            let store = Self.sampleStore()
            let file = SnapshotFile(directory: directory)
            let written = try file.write(store, logSequence: 42, takenAt: 123_456)
            #expect(file.path == directory + "/snapshot.pisync")
            #expect(!FileManager.default.fileExists(atPath: file.path + ".tmp"))
            #expect(written == SnapshotSummary(
                logSequence: 42, takenAt: 123_456, devices: 2, events: 3, lastAlertSequence: 1,
                bytes: Int64(try readBytes(file.path).count)))

            let restored = SyncStore(configuration: StoreConfiguration(alertThreshold: 2))
            #expect(try file.load(into: restored) == written)
            #expect(restored.observableState == store.observableState)
            #expect(restored.alertHistory.alerts == store.alertHistory.alerts)
            #expect(restored.alertHistory.alerts.map(\.deviceID) == ["pi"])
        }
    }

    @Test("the file is the documented header, a header record, a record per device, the alert history and a trailer")
    func fileLayout() throws {
        try withScratch { directory in
            let file = SnapshotFile(directory: directory)
            let summary = try file.write(Self.sampleStore(), logSequence: 9, takenAt: 555)
            let bytes = try readBytes(file.path)
            #expect(Array(bytes[0..<8]) == Array("PISYNCSS".utf8))
            #expect(Array(bytes[8..<12]) == [3, 0, 0, 0])  // version 3, little-endian
            #expect(Array(bytes[12..<16]) == [0, 0, 0, 0])  // reserved

            let records = framedRecords(in: bytes)
            #expect(records.last?.end == bytes.count, "the records fill the file")
            for record in records {
                #expect(record.checksum == CRC32.checksum(record.body), "CRC-32 of the record at \(record.offset)")
            }
            #expect(records.map { $0.body.first } == [1, 2, 2, 4, 3])

            let header = try Pisync_Storage_V1_SnapshotHeader(serializedBytes: Array(records[0].body.dropFirst()))
            #expect(header.logSequence == 9)
            #expect(header.takenAt == 555)
            let devices = try records[1...2].map { try Pisync_Storage_V1_StoredDevice(serializedBytes: Array($0.body.dropFirst())) }
            #expect(Set(devices.map(\.deviceID)) == ["pi", "pi-2"])
            let pi = try #require(devices.first { $0.deviceID == "pi" })
            #expect(pi.timestamps == [t0 + 1, t0 + 2])
            #expect(pi.totalErrors == [4, 4])
            #expect(pi.totalFilesSynced == [0, 0])
            #expect(pi.internetSpeed == [12.5, 12.5])
            #expect(pi.streakAlerted)
            let alerts = try Pisync_Storage_V1_SnapshotAlerts(serializedBytes: Array(records[3].body.dropFirst()))
            #expect(alerts.alerts.map(\.sequence) == [1])
            #expect(alerts.alerts.first?.deviceID == "pi")
            #expect(alerts.alerts.first?.consecutiveFailures == 2)
            #expect(alerts.alerts.first?.lastFailureTimestamp == t0 + 2)
            let trailer = try Pisync_Storage_V1_SnapshotTrailer(serializedBytes: Array(records[4].body.dropFirst()))
            #expect(trailer.devices == 2)
            #expect(trailer.events == 3)
            #expect(trailer.lastAlertSequence == 1)
            #expect(summary.bytes == Int64(bytes.count))
        }
    }

    @Test("the sample is intact")
    func sampleLoads() throws {
        #expect(try load(Self.sample.bytes)?.logSequence == 17)
        #expect(Self.sample.records.count == 5)
    }

    // Record 0 is the header record, 1 and 2 the devices, 3 the alert history, 4 the trailer.
    @Test("a flipped byte anywhere in a record is corrupt at that record's offset", arguments: 0..<5)
    func flippedRecordByte(index: Int) throws {
        let record = Self.sample.records[index]
        // The length (one more or less; 2 GiB more), the checksum, the tag byte, the body's
        // middle and last byte.
        let flips: [(position: Int, mask: UInt8)] = [
            (0, 0x01), (0, 0x02), (3, 0x80), (4, 0x01), (7, 0x80), (8, 0x01),
            (8 + record.length / 2, 0x10), (8 + record.length - 1, 0x01),
        ]
        for flip in flips {
            expectCorrupt(at: record.offset) { $0[record.offset + flip.position] ^= flip.mask }
        }
    }

    @Test("a file cut anywhere, the trailer included, is corrupt", arguments: [-1, 0, 1, 2, 3])
    func truncated(index: Int) throws {
        let size = Self.sample.bytes.count
        guard index >= 0 else {
            // Within the file header the magic is missing.
            for length in [0, 1, 8, 12, 15] {
                expectCorrupt(at: 0) { $0.removeLast(size - length) }
            }
            return
        }
        // Cut inside record `index` (or right before it): that record is named.
        let record = Self.sample.records[index]
        for length in [record.offset, record.offset + 1, record.offset + 7, record.offset + 8, record.end - 1] {
            expectCorrupt(at: record.offset) { $0.removeLast(size - length) }
        }
    }

    @Test("garbage without the magic is corrupt", arguments: [
        Array("not a snapshot at all, just some text".utf8),
        Array("pisyncss".utf8) + [2] + [UInt8](repeating: 0, count: 15),
        [UInt8](repeating: 0, count: 64),
        Array("PISYNC".utf8),
    ])
    func garbage(contents: [UInt8]) {
        expectCorrupt(at: 0) { $0 = contents }
    }

    @Test("a version no build wrote is damage at the version field", arguments: [UInt32(0), 256, .max])
    func implausibleVersion(version: UInt32) {
        expectCorrupt(at: 8) { $0.replaceSubrange(8..<12, with: littleEndian(version)) }
    }

    @Test("a format 2 snapshot (before the alert history was kept) still loads, with an empty history")
    func formatTwo() throws {
        let records = Self.sample.records
        var bytes = Self.sample.bytes
        bytes.removeSubrange(records[3].offset..<records[3].end)
        bytes.replaceSubrange(8..<12, with: littleEndian(UInt32(2)))
        let restored = SyncStore(configuration: StoreConfiguration(alertThreshold: 2))
        try withScratch { directory in
            try PosixFileSystem().createDirectories(directory)
            let file = SnapshotFile(directory: directory)
            try writeBytes(bytes, to: file.path)
            #expect(try file.load(into: restored)?.lastAlertSequence == 1)
        }
        #expect(restored.observableState == Self.sampleStore().observableState)
        #expect(restored.alertHistory.alerts.isEmpty)
        #expect(restored.currentAlertSequence == 1)
    }

    @Test("a newer format version is refused", arguments: [UInt32(4), 7, 255])
    func newerVersion(version: UInt32) {
        let error = #expect(throws: SnapshotError.self) {
            var bytes = Self.sample.bytes
            bytes.replaceSubrange(8..<12, with: littleEndian(version))
            return try load(bytes)
        }
        guard case .unsupportedVersion(let path, let found) = error else {
            Issue.record("expected .unsupportedVersion, got \(String(describing: error))")
            return
        }
        #expect(path.hasSuffix("/snapshot.pisync"))
        #expect(found == version)
    }

    @Test("a trailer whose counts disagree with the records is corrupt")
    func trailerCountsDisagree() throws {
        let trailerRecord = try #require(Self.sample.records.last)
        var trailer = try Pisync_Storage_V1_SnapshotTrailer(serializedBytes: Array(trailerRecord.body.dropFirst()))
        trailer.devices = 3
        let encoded: [UInt8] = try [3] + trailer.serializedBytes()
        var framed: [UInt8] = []
        encoded.withUnsafeBytes { RecordFrame.append($0, to: &framed) }
        expectCorrupt(at: trailerRecord.offset) { $0 = Array($0[..<trailerRecord.offset]) + framed }
    }

    @Test("records out of place are corrupt", arguments: ["device first", "unknown tag"])
    func recordOutOfPlace(kind: String) throws {
        let records = Self.sample.records
        // "device first" puts a device record where the header record was; "unknown tag"
        // replaces the first device record by one tagged 9.
        let (replaced, forged) = kind == "device first"
            ? (records[0], records[1].body) : (records[1], [9] + records[1].body.dropFirst())
        var framed: [UInt8] = []
        forged.withUnsafeBytes { RecordFrame.append($0, to: &framed) }
        expectCorrupt(at: replaced.offset) { $0.replaceSubrange(replaced.offset..<replaced.end, with: framed) }
    }

    @Test("a second write replaces the first")
    func overwrite() throws {
        try withScratch { directory in
            let file = SnapshotFile(directory: directory)
            _ = try file.write(Self.sampleStore(), logSequence: 1, takenAt: 1)
            let second = SyncStore()
            second.recordEach([event("other", .partial, at: 5)])
            _ = try file.write(second, logSequence: 2, takenAt: 2)

            let restored = SyncStore()
            let summary = try SnapshotFile(directory: directory).load(into: restored)
            #expect(summary?.logSequence == 2)
            #expect(summary?.devices == 1)
            #expect(restored.observableState == second.observableState)
            #expect(!FileManager.default.fileExists(atPath: file.path + ".tmp"))
        }
    }

    @Test("missing parent directories are created")
    func createsDirectories() throws {
        try withScratch { directory in
            let file = SnapshotFile(directory: directory + "/nested/deeper")
            _ = try file.write(Self.sampleStore(), logSequence: 0, takenAt: 0)
            let restored = SyncStore()
            #expect(try file.load(into: restored)?.devices == 2)
            #expect(try restored.allHistory(of: "pi").count == 2)
        }
    }

    @Test("loading where no snapshot was written returns nil and leaves the store empty")
    func missingFile() throws {
        try withScratch { directory in
            let store = SyncStore()
            #expect(try SnapshotFile(directory: directory).load(into: store) == nil)  // no directory
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            #expect(try SnapshotFile(directory: directory).load(into: store) == nil)  // empty directory
            #expect(store.observableState.devices.isEmpty)
        }
    }
}
