@testable import PiSyncPersistence
import PiSyncStore
import SwiftProtobuf
import Testing

/// The hand-written log record encoder writes exactly what swift-protobuf writes for the
/// same `LogRecord`, and reads back through swift-protobuf's decoder.
@Suite("Log record codec")
struct LogRecordCodecTests {
    /// The reference: the message built field by field and serialized by swift-protobuf.
    static func reference(_ events: [SyncEvent], lastAlertSequence: UInt64) throws -> [UInt8] {
        var record = Pisync_Storage_V1_LogRecord()
        record.lastAlertSequence = lastAlertSequence
        for event in events {
            if let known = record.deviceIds.firstIndex(of: event.deviceID) {
                record.deviceIndex.append(UInt32(known))
            } else {
                record.deviceIndex.append(UInt32(record.deviceIds.count))
                record.deviceIds.append(event.deviceID)
            }
            record.timestamps.append(event.timestamp)
            record.totalFilesSynced.append(event.filesSynced)
            record.totalErrors.append(event.errors)
            record.internetSpeed.append(event.internetSpeed)
        }
        return try record.serializedBytes()
    }

    @Test("byte for byte the same as swift-protobuf", arguments: [1, 2, 7, 8, 9, 100, 1000])
    func sameBytes(count: Int) throws {
        var generator = SystemRandomNumberGenerator()
        for round in 0..<20 {
            let devices = round < 2 ? 1 : Int.random(in: 1...max(1, count), using: &generator)  // one device: the fast path
            let events = (0..<count).map { index in
                SyncEvent(
                    deviceID: "device-\(Int.random(in: 0..<devices, using: &generator))-" + String(repeating: "x", count: round),
                    timestamp: index == 0 && round == 1 ? -1 : Int64.random(in: 0...Int64.max, using: &generator),
                    filesSynced: UInt32.random(in: 0...UInt32.max, using: &generator) >> UInt32.random(in: 0...31, using: &generator),
                    errors: round % 2 == 0 ? 0 : UInt32.random(in: 0...300, using: &generator),
                    internetSpeed: round == 3 ? 0 : Float.random(in: 0...1000, using: &generator))
            }
            let sequence: UInt64 = round % 3 == 0 ? 0 : UInt64.random(in: 1...UInt64.max, using: &generator)
            let encoded = LogRecordCodec.encode(events, lastAlertSequence: sequence)
            #expect(encoded == (try Self.reference(events, lastAlertSequence: sequence)))
            let decoded = try LogRecordCodec.decode(encoded[...])
            #expect(decoded.lastAlertSequence == sequence)
            #expect(decoded.devices.reduce(0) { $0 + $1.events.count } == count)
        }
    }
}
