import PiSyncTestSupport
@testable import PiSyncPersistence
import PiSyncStore
import Testing

/// Snapshots written by earlier builds: a 24-byte header (magic, version 1, CRC-32 of the
/// body, UInt64 body length) and one `Snapshot` message.
@Suite("Snapshot format 1")
struct SnapshotFormat1Tests {
    /// "alerted" F F F (streak alerted), "calm" S P; last alert 7.
    static func sampleSnapshot() -> Pisync_Storage_V1_Snapshot {
        .with {
            $0.lastAlertSequence = 7
            $0.takenAt = 987_654
            $0.devices = [
                .with {
                    $0.deviceID = "alerted"
                    $0.streakAlerted = true
                    $0.events = (Int64(1)...3).map { offset in
                        .with { $0.timestamp = t0 + offset; $0.totalFilesSynced = 0; $0.totalErrors = 4; $0.internetSpeed = 1.5 }
                    }
                },
                .with {
                    $0.deviceID = "calm"
                    $0.events = [
                        .with { $0.timestamp = t0 + 1; $0.totalFilesSynced = 7; $0.totalErrors = 0; $0.internetSpeed = 30 },
                        .with { $0.timestamp = t0 + 2; $0.totalFilesSynced = 3; $0.totalErrors = 2; $0.internetSpeed = 20 },
                    ]
                },
            ]
        }
    }

    /// A format 1 file around `body`.
    static func format1File(body: [UInt8]) -> [UInt8] {
        Array("PISYNCSS".utf8) + littleEndian(UInt32(1)) + littleEndian(CRC32.checksum(body))
            + littleEndian(UInt64(body.count)) + body
    }

    /// Writes `bytes` as the snapshot of a scratch directory and loads it into `store`.
    func load(_ bytes: [UInt8], into store: SyncStore) throws -> SnapshotSummary? {
        try withScratch { directory in
            let file = SnapshotFile(directory: directory)
            try PosixFileSystem().createDirectories(directory)
            try writeBytes(bytes, to: file.path)
            return try file.load(into: store)
        }
    }

    func expectCorrupt(at offset: Int64, _ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) {
        let error = #expect(throws: SnapshotError.self, sourceLocation: sourceLocation) {
            try load(bytes, into: SyncStore())
        }
        guard case .corrupt(let path, let found, _) = error else {
            Issue.record("expected .corrupt, got \(String(describing: error))", sourceLocation: sourceLocation)
            return
        }
        #expect(path.hasSuffix("/snapshot.pisync"), sourceLocation: sourceLocation)
        #expect(found == offset, "\(String(describing: error))", sourceLocation: sourceLocation)
    }

    @Test("a format 1 snapshot loads: devices, events, streak flags and the alert sequence")
    func loads() throws {
        let body: [UInt8] = try Self.sampleSnapshot().serializedBytes()
        let bytes = Self.format1File(body: body)
        let collector = AlertCollector()
        let store = collector.makeStore(threshold: 3)
        let summary = try #require(try load(bytes, into: store))
        #expect(summary == SnapshotSummary(
            logSequence: 0, takenAt: 987_654, devices: 2, events: 5, lastAlertSequence: 7, bytes: Int64(bytes.count)))

        #expect(try store.allHistory(of: "alerted").map(\.timestamp) == [t0 + 3, t0 + 2, t0 + 1])
        #expect(try store.allHistory(of: "calm").map(\.status) == [.partial, .success])
        #expect(store.summary(of: "alerted")?.consecutiveFailures == 3)
        #expect(store.summary(of: "alerted")?.failedSyncs == 3)
        #expect(store.summary(of: "calm")?.lastSuccessTimestamp == t0 + 1)
        #expect(store.currentAlertSequence == 7)

        // The alerted streak stays alerted; a new streak is numbered after the old alerts.
        store.recordEach([event("alerted", .failed, at: 4)] + (3...5).map { event("calm", .failed, at: $0) })
        #expect(collector.alerts.map(\.deviceID) == ["calm"])
        #expect(collector.alerts.map(\.sequence) == [8])
    }

    @Test("an empty format 1 snapshot loads as an empty store")
    func emptySnapshot() throws {
        let store = SyncStore()
        let summary = try #require(try load(Self.format1File(body: []), into: store))
        #expect(summary.devices == 0)
        #expect(summary.lastAlertSequence == 0)
        #expect(store.observableState.devices.isEmpty)
    }

    @Test("a flipped body byte is corrupt at the body", arguments: [0, 10, -1])
    func flippedBodyByte(position: Int) throws {
        var bytes = Self.format1File(body: try Self.sampleSnapshot().serializedBytes())
        bytes[position < 0 ? bytes.count + position : 24 + position] ^= 0x01
        expectCorrupt(at: 24, bytes)
    }

    @Test("a damaged checksum is corrupt at the body")
    func flippedChecksum() throws {
        var bytes = Self.format1File(body: try Self.sampleSnapshot().serializedBytes())
        bytes[13] ^= 0x80
        expectCorrupt(at: 24, bytes)
    }

    @Test("a length that disagrees with the file is corrupt", arguments: [-1, 1, 1000])
    func wrongLength(change: Int) throws {
        let body: [UInt8] = try Self.sampleSnapshot().serializedBytes()
        var bytes = Self.format1File(body: body)
        bytes.replaceSubrange(16..<24, with: littleEndian(UInt64(body.count + change)))
        expectCorrupt(at: 16, bytes)
    }

    @Test("a truncated format 1 file is corrupt", arguments: [1, 10, 30])
    func truncated(dropping count: Int) throws {
        var bytes = Self.format1File(body: try Self.sampleSnapshot().serializedBytes())
        bytes.removeLast(count)
        expectCorrupt(at: 16, bytes)
    }

    @Test("a format 1 header cut short is corrupt", arguments: [16, 20, 23])
    func headerCutShort(length: Int) throws {
        let bytes = Self.format1File(body: try Self.sampleSnapshot().serializedBytes())
        expectCorrupt(at: 0, Array(bytes.prefix(length)))
    }

    @Test("a body that does not decode is corrupt", arguments: [
        [UInt8(0x1A), 0x10, 0x01],  // devices field declares 16 bytes, has 1
        [0x08],  // varint field with no value
        [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF],  // endless varint tag
    ])
    func corruptBody(body: [UInt8]) {
        expectCorrupt(at: 24, Self.format1File(body: body))
    }
}
