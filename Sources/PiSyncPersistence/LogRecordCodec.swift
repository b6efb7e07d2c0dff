import PiSyncStore
import SwiftProtobuf

/// The body of a log record: the events one store call newly stored in one shard, as packed
/// columns with each device id once, and the alerts they raised with the highest number.
enum LogRecordCodec {
    /// The record's bytes: the same as swift-protobuf writes for the equivalent
    /// `pisync.storage.v1.LogRecord` (fields in number order, packed columns), written by hand
    /// because this runs for every RecordSync, under the shard lock, and building the message
    /// costs an allocation per column (LogRecordCodecTests compares the two).
    static func encode(_ events: [SyncEvent], alerts: [FailureAlert] = []) -> [UInt8] {
        let lastAlertSequence = alerts.last?.sequence ?? 0
        if let device = events.first?.deviceID, events.allSatisfy({ $0.deviceID == device }) {
            // One device, the usual record: no device table to build.
            var out = ProtobufWriter(capacity: 16 + device.utf8.count + events.count * 24)
            out.lastAlertSequence(lastAlertSequence)
            out.deviceID(device)
            out.tag(4, .lengthDelimited)
            out.varint(UInt64(events.count))
            out.bytes.append(contentsOf: repeatElement(0, count: events.count))  // index 0 each
            out.columns(of: events)
            out.alerts(alerts)
            return out.bytes
        }
        var deviceIDs: [String] = []
        var deviceIndex: [UInt32] = []
        deviceIndex.reserveCapacity(events.count)
        var indexes: [String: UInt32] = [:]
        for event in events {
            let index: UInt32
            if deviceIDs.last == event.deviceID {
                index = UInt32(deviceIDs.count - 1)
            } else if deviceIDs.count < 8, let known = deviceIDs.firstIndex(of: event.deviceID) {
                index = UInt32(known)  // few devices: a scan beats a dictionary
            } else if deviceIDs.count >= 8, let known = indexes[event.deviceID] {
                index = known
            } else {
                index = UInt32(deviceIDs.count)
                deviceIDs.append(event.deviceID)
                if deviceIDs.count == 8 {
                    indexes.reserveCapacity(events.count)
                    for (position, id) in deviceIDs.enumerated() { indexes[id] = UInt32(position) }
                } else if deviceIDs.count > 8 {
                    indexes[event.deviceID] = index
                }
            }
            deviceIndex.append(index)
        }
        var out = ProtobufWriter(capacity: 16 + deviceIDs.reduce(0) { $0 + $1.utf8.count + 2 } + events.count * 24)
        out.lastAlertSequence(lastAlertSequence)
        for id in deviceIDs { out.deviceID(id) }
        out.packedVarints(4, deviceIndex.lazy.map { UInt64($0) })
        out.columns(of: events)
        out.alerts(alerts)
        return out.bytes
    }

    /// The record's events grouped by device (each device's events in their logged order; the
    /// order between devices does not matter to the store), its alert sequence number and its
    /// alerts (none in records written before the alert history was logged).
    static func decode(_ payload: ArraySlice<UInt8>) throws -> DecodedLogRecord {
        let record = try Pisync_Storage_V1_LogRecord(serializedBytes: Array(payload))
        let count = record.timestamps.count
        guard record.deviceIndex.count == count, record.totalFilesSynced.count == count,
            record.totalErrors.count == count, record.internetSpeed.count == count
        else {
            throw LogRecordError("columns of different lengths")
        }
        var devices = record.deviceIds.map { DeviceRecord(deviceID: $0, events: [], streakAlerted: false) }
        for index in 0..<count {
            let device = Int(record.deviceIndex[index])
            guard device < devices.count else { throw LogRecordError("device index \(device) out of range") }
            devices[device].events.append(
                StoredSync(
                    timestamp: record.timestamps[index], filesSynced: record.totalFilesSynced[index],
                    errors: record.totalErrors[index], internetSpeed: record.internetSpeed[index]))
        }
        let alerts = try record.alerts.map { try FailureAlert($0) }
        guard zip(alerts, alerts.dropFirst()).allSatisfy({ $0.sequence < $1.sequence }),
            alerts.last.map({ $0.sequence == record.lastAlertSequence }) ?? true
        else {
            throw LogRecordError("alerts out of order or not ending at last_alert_sequence \(record.lastAlertSequence)")
        }
        return DecodedLogRecord(devices: devices, lastAlertSequence: record.lastAlertSequence, alerts: alerts)
    }
}

/// A log record that decodes but does not make sense.
struct LogRecordError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension ProtobufWriter {
    /// `LogRecord.last_alert_sequence` (field 2), unless 0.
    fileprivate mutating func lastAlertSequence(_ sequence: UInt64) {
        guard sequence != 0 else { return }
        tag(2, .varint)
        varint(sequence)
    }

    /// One `LogRecord.device_ids` entry (field 3).
    fileprivate mutating func deviceID(_ id: String) {
        tag(3, .lengthDelimited)
        varint(UInt64(id.utf8.count))
        bytes.append(contentsOf: id.utf8)
    }

    /// `LogRecord.alerts` (field 9), rare: built with swift-protobuf.
    fileprivate mutating func alerts(_ alerts: [FailureAlert]) {
        for alert in alerts {
            // Serializing a plain message into memory cannot fail.
            guard let body = try? Pisync_Storage_V1_StoredAlert(alert).serializedBytes() as [UInt8] else { continue }
            tag(9, .lengthDelimited)
            varint(UInt64(body.count))
            bytes.append(contentsOf: body)
        }
    }

    /// The per-event columns, fields 5 to 8, packed.
    fileprivate mutating func columns(of events: [SyncEvent]) {
        packedVarints(5, events.lazy.map { UInt64(bitPattern: $0.timestamp) })
        packedVarints(6, events.lazy.map { UInt64($0.filesSynced) })
        packedVarints(7, events.lazy.map { UInt64($0.errors) })
        guard !events.isEmpty else { return }
        tag(8, .lengthDelimited)
        varint(UInt64(events.count * 4))
        for event in events {
            withUnsafeBytes(of: event.internetSpeed.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
        }
    }
}
