import PiSyncStore
import SwiftProtobuf

/// The body of a log record: the events one store call newly stored in one shard, consecutive
/// events of a device grouped under it, and the highest alert number they raised.
enum LogRecordCodec {
    static func encode(_ events: [SyncEvent], lastAlertSequence: UInt64) -> [UInt8] {
        var record = Pisync_Storage_V1_LogRecord()
        record.lastAlertSequence = lastAlertSequence
        for event in events {
            if record.devices.last?.deviceID != event.deviceID {
                record.devices.append(.with { $0.deviceID = event.deviceID })
            }
            record.devices[record.devices.count - 1].events.append(.with {
                $0.timestamp = event.timestamp
                $0.totalFilesSynced = event.filesSynced
                $0.totalErrors = event.errors
                $0.internetSpeed = event.internetSpeed
            })
        }
        // Encoding a message of plain fields cannot fail.
        return (try? record.serializedBytes()) ?? []
    }

    static func decode(_ payload: ArraySlice<UInt8>) throws -> (events: [SyncEvent], lastAlertSequence: UInt64) {
        let record = try Pisync_Storage_V1_LogRecord(serializedBytes: Array(payload))
        var events: [SyncEvent] = []
        for device in record.devices {
            for event in device.events {
                events.append(
                    SyncEvent(
                        deviceID: device.deviceID, timestamp: event.timestamp, filesSynced: event.totalFilesSynced,
                        errors: event.totalErrors, internetSpeed: event.internetSpeed))
            }
        }
        return (events, record.lastAlertSequence)
    }
}
