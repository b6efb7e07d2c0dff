@testable import PiSyncPersistence
import PiSyncStore
import SwiftProtobuf
import Testing

/// The hand-written log record encoder writes exactly what swift-protobuf writes for the
/// same `LogRecord`, and reads back through swift-protobuf's decoder.
@Suite("Log record codec")
struct LogRecordCodecTests {
    /// The reference: the message built field by field and serialized by swift-protobuf.
    static func reference(_ events: [SyncEvent], alerts: [FailureAlert]) throws -> [UInt8] {
        var record = Pisync_Storage_V1_LogRecord()
        record.lastAlertSequence = alerts.last?.sequence ?? 0
        record.alerts = alerts.map(Pisync_Storage_V1_StoredAlert.init)
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
            let first: UInt64 = round % 3 == 0 ? 0 : UInt64.random(in: 1...UInt64.max - 3, using: &generator)
            let alerts = first == 0 ? [] : Self.alerts(from: first, count: round % 4 + 1, events: events)
            let encoded = LogRecordCodec.encode(events, alerts: alerts)
            #expect(encoded == (try Self.reference(events, alerts: alerts)))
            let decoded = try LogRecordCodec.decode(encoded[...])
            #expect(decoded.lastAlertSequence == alerts.last?.sequence ?? 0)
            #expect(decoded.alerts == alerts)
            #expect(decoded.devices.reduce(0) { $0 + $1.events.count } == count)
        }
    }

    /// `count` alerts numbered from `first`, alternately failure alerts and recoveries.
    static func alerts(from first: UInt64, count: Int, events: [SyncEvent]) -> [FailureAlert] {
        (0..<count).map { index in
            let event = events[index % events.count]
            return FailureAlert(
                sequence: first + UInt64(index), deviceID: event.deviceID, consecutiveFailures: 3 + index,
                firstFailureTimestamp: event.timestamp - 1, lastFailureTimestamp: event.timestamp,
                recovery: index % 2 == 0 ? nil : .init(timestamp: event.timestamp + 1, status: index % 4 == 1 ? .partial : .success))
        }
    }

    @Test("a record with alerts whose numbers do not end at last_alert_sequence is refused as damaged")
    func inconsistentAlerts() throws {
        let event = SyncEvent(deviceID: "pi", timestamp: 5, filesSynced: 0, errors: 1, internetSpeed: 1)
        let alerts = Self.alerts(from: 7, count: 2, events: [event])
        var record = try Pisync_Storage_V1_LogRecord(serializedBytes: LogRecordCodec.encode([event], alerts: alerts))
        record.lastAlertSequence = 9
        let bytes: [UInt8] = try record.serializedBytes()
        #expect(throws: LogRecordError.self) { try LogRecordCodec.decode(bytes[...]) }
    }
}
