import Foundation
import PiSyncPersistence
import PiSyncStore
import Synchronization
import PiSyncTestSupport
import Testing

/// Shared fixtures of the persistence tests (no suite lives here); the event fixtures are in
/// PiSyncTestSupport.

extension SyncStore {
    /// Everything a client can observe, in a comparable form: each device whole (events and
    /// streak flag) with its summary, the failure list and the alert sequence.
    var observableState: ObservableState {
        let devices = (0..<shardCount).flatMap { self.devices(inShard: $0) }.sorted { $0.deviceID < $1.deviceID }
        // PageRequest(page: 1, limit: 100) cannot throw.
        let everyone = try! PageRequest(page: 1, limit: 100)
        return ObservableState(
            devices: devices, summaries: devices.map { summary(of: $0.deviceID) },
            failures: failures(above: 0, page: everyone), alertSequence: currentAlertSequence)
    }
}

/// See ``SyncStore/observableState``.
struct ObservableState: Equatable, CustomStringConvertible {
    var devices: [DeviceRecord]
    var summaries: [DeviceFailureSummary?]
    var failures: FailurePage
    var alertSequence: UInt64

    var eventCount: Int { devices.reduce(0) { $0 + $1.events.count } }

    var description: String {
        "\(devices.count) devices, \(eventCount) events, \(failures.total) failing, alert sequence \(alertSequence)"
    }
}

// MARK: Files

/// A fresh directory path under the system's temp directory (not created).
func scratchDirectory() -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("pisync-persistence-tests-\(UUID().uuidString)").path
}

/// Runs `body` with a scratch directory path, removing the directory afterwards.
func withScratch<T>(_ body: (String) throws -> T) throws -> T {
    let directory = scratchDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    return try body(directory)
}

/// Runs `body` with a scratch directory path, removing the directory afterwards.
func withAsyncScratch<T>(_ body: (String) async throws -> T) async throws -> T {
    let directory = scratchDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    return try await body(directory)
}

func readBytes(_ path: String) throws -> [UInt8] {
    try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
}

func writeBytes(_ bytes: [UInt8], to path: String) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

/// The little-endian bytes of `value`.
func littleEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    withUnsafeBytes(of: value.littleEndian) { Array($0) }
}

/// Reads a little-endian integer at `offset` of `bytes`.
func readLittleEndian<T: FixedWidthInteger>(_ type: T.Type, _ bytes: [UInt8], at offset: Int) -> T {
    bytes[offset..<offset + MemoryLayout<T>.size].reversed().reduce(T.zero) { $0 << 8 | T($1) }
}

/// One framed record of a snapshot or log file: where it starts and its body.
struct FramedRecord: Equatable {
    var offset: Int
    var length: Int
    var checksum: UInt32
    var body: [UInt8]
    /// Where the next record starts.
    var end: Int { offset + 8 + length }
}

/// Splits `bytes` after a `headerSize`-byte file header into its framed records, as the
/// documented layout says: UInt32 LE body length, UInt32 LE CRC-32 of the body, the body.
/// Stops at the first frame that does not fit.
func framedRecords(in bytes: [UInt8], headerSize: Int = 16) -> [FramedRecord] {
    var records: [FramedRecord] = []
    var offset = headerSize
    while offset + 8 <= bytes.count {
        let length = Int(readLittleEndian(UInt32.self, bytes, at: offset))
        guard offset + 8 + length <= bytes.count else { break }
        records.append(
            FramedRecord(
                offset: offset, length: length, checksum: readLittleEndian(UInt32.self, bytes, at: offset + 4),
                body: Array(bytes[offset + 8..<offset + 8 + length])))
        offset += 8 + length
    }
    return records
}
