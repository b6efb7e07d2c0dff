import PiSyncStore

/// Reads format 1 snapshots (one `Snapshot` message after a 24-byte header: magic, version,
/// CRC-32 of the body, body length), written by earlier builds.
enum SnapshotFormat1 {
    static func load(path: String, into store: SyncStore) throws -> SnapshotSummary {
        guard var reader = try RecordFileReader(path: path), let header = try reader.readRaw(24) else {
            throw SnapshotError.corrupt(path: path, offset: 0, reason: "format 1 header cut short")
        }
        let (checksum, length) = header.withUnsafeBytes {
            (UInt32(littleEndianAt: 12, of: $0), UInt64(littleEndianAt: 16, of: $0))
        }
        guard length == UInt64(reader.fileSize - 24), let body = try reader.readRaw(Int(length)) else {
            throw SnapshotError.corrupt(
                path: path, offset: 16, reason: "header says \(length) body bytes, file has \(reader.fileSize - 24)")
        }
        guard CRC32.checksum(body) == checksum else {
            throw SnapshotError.corrupt(path: path, offset: 24, reason: "body checksum mismatch")
        }
        let snapshot: Pisync_Storage_V1_Snapshot
        do {
            snapshot = try Pisync_Storage_V1_Snapshot(serializedBytes: body)
        } catch {
            throw SnapshotError.corrupt(path: path, offset: 24, reason: "snapshot body does not decode: \(error)")
        }
        var events = 0
        for device in snapshot.devices {
            store.restore(DeviceRecord(deviceID: device.deviceID, events: try device.storedEvents(), streakAlerted: device.streakAlerted))
            events += device.events.count
        }
        store.raiseAlertSequence(to: snapshot.lastAlertSequence)
        return SnapshotSummary(
            logSequence: 0, takenAt: snapshot.takenAt, devices: snapshot.devices.count, events: events,
            lastAlertSequence: snapshot.lastAlertSequence, bytes: reader.fileSize)
    }
}
