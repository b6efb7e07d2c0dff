import Foundation
@testable import PiSyncStore
import Testing

@Suite("Snapshot file")
struct SnapshotFileTests {
    /// A fresh directory path under the system's temp directory (not created).
    static func scratchDirectory() -> String {
        FileManager.default.temporaryDirectory
            .appendingPathComponent("pisync-store-tests-\(UUID().uuidString)").path
    }

    /// Runs `body` with a scratch directory path, removing the directory afterwards.
    func withScratch(_ body: (String) throws -> Void) rethrows {
        let directory = Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try body(directory)
    }

    static let sampleBody: [UInt8] = Array("a snapshot body that is long enough to damage".utf8)

    /// Writes `sampleBody`, lets `damage` edit the file's bytes, and reads it back.
    func readAfterDamaging(_ damage: (inout [UInt8]) -> Void) throws -> [UInt8]? {
        let directory = Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = SnapshotFile(directory: directory)
        try file.write(Self.sampleBody)
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: file.path)))
        damage(&bytes)
        try Data(bytes).write(to: URL(fileURLWithPath: file.path))
        return try file.read()
    }

    func expectCorrupt(_ damage: (inout [UInt8]) -> Void, sourceLocation: SourceLocation = #_sourceLocation) {
        let error = #expect(throws: SnapshotError.self, sourceLocation: sourceLocation) { try readAfterDamaging(damage) }
        guard case .corrupt = error else {
            Issue.record("expected .corrupt, got \(String(describing: error))", sourceLocation: sourceLocation)
            return
        }
    }

    @Test("write then read returns the body", arguments: [[UInt8](), [0x00], sampleBody, (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }])
    func roundTrip(body: [UInt8]) throws {
        try withScratch { directory in
            let file = SnapshotFile(directory: directory)
            try file.write(body)
            #expect(try file.read() == body)
            #expect(file.path == directory + "/snapshot.pisync")
            #expect(!FileManager.default.fileExists(atPath: file.path + ".tmp"))
        }
    }

    @Test("the file is the documented 24-byte header and the body")
    func fileLayout() throws {
        try withScratch { directory in
            let file = SnapshotFile(directory: directory)
            try file.write(Self.sampleBody)
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: file.path)))
            #expect(bytes.count == 24 + Self.sampleBody.count)
            #expect(Array(bytes[0..<8]) == Array("PISYNCSS".utf8))
            #expect(Array(bytes[8..<12]) == [1, 0, 0, 0])  // version 1, little-endian
            let crc = CRC32.checksum(Self.sampleBody)
            #expect(Array(bytes[12..<16]) == [0, 8, 16, 24].map { UInt8(truncatingIfNeeded: crc >> $0) })
            #expect(Array(bytes[16..<24]) == [UInt8(Self.sampleBody.count), 0, 0, 0, 0, 0, 0, 0])
            #expect(Array(bytes[24...]) == Self.sampleBody)
        }
    }

    @Test("CRC-32 is the zlib/IEEE checksum")
    func crcKnownAnswers() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([UInt8]()) == 0)
        #expect(CRC32.checksum(Array("The quick brown fox jumps over the lazy dog".utf8)) == 0x414F_A339)
    }

    @Test("a second write replaces the first")
    func overwrite() throws {
        try withScratch { directory in
            let file = SnapshotFile(directory: directory)
            try file.write(Self.sampleBody)
            try file.write([1, 2, 3])
            #expect(try file.read() == [1, 2, 3])
            #expect(try SnapshotFile(directory: directory).read() == [1, 2, 3])
        }
    }

    @Test("missing parent directories are created")
    func createsDirectories() throws {
        try withScratch { directory in
            let file = SnapshotFile(directory: directory + "/nested/deeper")
            try file.write([42])
            #expect(try file.read() == [42])
        }
    }

    @Test("reading where no snapshot was written returns nil")
    func missingFile() throws {
        try withScratch { directory in
            #expect(try SnapshotFile(directory: directory).read() == nil)  // no directory
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            #expect(try SnapshotFile(directory: directory).read() == nil)  // empty directory
        }
    }

    @Test("a flipped bit anywhere in the body is corrupt", arguments: [24, 30, 24 + sampleBody.count - 1])
    func flippedBodyByte(position: Int) {
        expectCorrupt { $0[position] ^= 0x01 }
    }

    @Test("a damaged checksum is corrupt")
    func flippedChecksum() {
        expectCorrupt { $0[13] ^= 0x80 }
    }

    @Test("a truncated file is corrupt", arguments: [1, 10, sampleBody.count, sampleBody.count + 4, sampleBody.count + 24])
    func truncated(dropping count: Int) {
        expectCorrupt { $0.removeLast(count) }
    }

    @Test("trailing bytes after the body are corrupt")
    func trailingBytes() {
        expectCorrupt { $0 += [0] }
    }

    @Test("a length field that disagrees with the file is corrupt")
    func wrongLength() {
        expectCorrupt { $0[16] &+= 1 }
    }

    @Test("garbage without the magic is corrupt", arguments: [
        Array("not a snapshot at all, just some text".utf8),
        Array("pisyncss".utf8) + [UInt8](repeating: 0, count: 16),
        [UInt8](repeating: 0, count: 64),
    ])
    func garbage(contents: [UInt8]) {
        expectCorrupt { $0 = contents }
    }

    @Test("a newer format version is refused", arguments: [UInt32(2), 7, .max])
    func newerVersion(version: UInt32) {
        let error = #expect(throws: SnapshotError.self) {
            try readAfterDamaging { bytes in
                bytes.replaceSubrange(8..<12, with: [0, 8, 16, 24].map { UInt8(truncatingIfNeeded: version >> $0) })
            }
        }
        guard case .unsupportedVersion(let found) = error else {
            Issue.record("expected .unsupportedVersion, got \(String(describing: error))")
            return
        }
        #expect(found == version)
    }

    @Test("a store survives write, read and restore through the file")
    func storeThroughFile() throws {
        try withScratch { directory in
            let store = AlertCollector().makeStore(threshold: 2)
            store.recordEach([event("pi", .failed, at: 1), event("pi", .failed, at: 2), event("pi-2", .success, at: 1)])
            let file = SnapshotFile(directory: directory)
            try file.write(store.snapshotBody(takenAt: testNow))
            let body = try #require(try file.read())
            let collector = AlertCollector()
            let restored = try SyncStore(restoringFrom: body, configuration: StoreConfiguration(alertThreshold: 2), onAlert: { collector.append($0) })
            #expect(try restored.allHistory(of: "pi") == store.allHistory(of: "pi"))
            #expect(try restored.allHistory(of: "pi-2") == store.allHistory(of: "pi-2"))
            restored.recordEach([event("pi-2", .failed, at: 2), event("pi-2", .failed, at: 3)])
            #expect(collector.alerts.map(\.sequence) == [2])
        }
    }
}
