import PiSyncStore
import SwiftProtobuf

/// The body of a log record: the events one store call newly stored in one shard, as packed
/// columns with each device id once, and the highest alert number they raised.
enum LogRecordCodec {
    static func encode(_ events: [SyncEvent], lastAlertSequence: UInt64) -> [UInt8] {
        var record = Pisync_Storage_V1_LogRecord()
        record.lastAlertSequence = lastAlertSequence
        record.deviceIndex.reserveCapacity(events.count)
        record.timestamps.reserveCapacity(events.count)
        record.totalFilesSynced.reserveCapacity(events.count)
        record.totalErrors.reserveCapacity(events.count)
        record.internetSpeed.reserveCapacity(events.count)
        var indexes: [String: UInt32] = [:]
        for event in events {
            let index: UInt32
            if record.deviceIds.last == event.deviceID {
                index = UInt32(record.deviceIds.count - 1)
            } else if record.deviceIds.count < 8, let known = record.deviceIds.firstIndex(of: event.deviceID) {
                index = UInt32(known)  // few devices: a scan beats a dictionary
            } else if record.deviceIds.count >= 8, let known = indexes[event.deviceID] {
                index = known
            } else {
                index = UInt32(record.deviceIds.count)
                record.deviceIds.append(event.deviceID)
                if record.deviceIds.count == 8 {
                    for (position, id) in record.deviceIds.enumerated() { indexes[id] = UInt32(position) }
                } else if record.deviceIds.count > 8 {
                    indexes[event.deviceID] = index
                }
            }
            record.deviceIndex.append(index)
            record.timestamps.append(event.timestamp)
            record.totalFilesSynced.append(event.filesSynced)
            record.totalErrors.append(event.errors)
            record.internetSpeed.append(event.internetSpeed)
        }
        // Encoding a message of plain fields cannot fail.
        return (try? record.serializedBytes()) ?? []
    }

    /// The record's events grouped by device (each device's events in their logged order; the
    /// order between devices does not matter to the store), and its alert sequence number.
    static func decode(_ payload: ArraySlice<UInt8>) throws -> (devices: [DeviceRecord], lastAlertSequence: UInt64) {
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
        return (devices, record.lastAlertSequence)
    }
}

/// A log record that decodes but does not make sense.
struct LogRecordError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
