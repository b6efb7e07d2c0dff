#if canImport(Glibc)
import Glibc
#endif
import PiSyncStore
import SwiftProtobuf

/// The snapshot file of a data directory, `snapshot.pisync`.
///
/// Format 2: a 16-byte header (magic `PISYNCSS`, format version UInt32 LE, 4 reserved zero
/// bytes), then framed records (``RecordFrame``), each body a tag byte and a message: one
/// `SnapshotHeader` (tag 1), one `StoredDevice` per device (tag 2), from format 3 the alert
/// history as `SnapshotAlerts` records (tag 4), one `SnapshotTrailer` (tag 3). It is written
/// and read device by device, so the memory either needs is bounded by the largest device, not
/// by the store. Formats 1 (one `Snapshot` message after a 24-byte header) and 2 (no alert
/// history) are still read.
///
/// A snapshot is replaced atomically: written to a temp file, fsync'd, renamed over the old
/// one, and the directory fsync'd. These calls block: run them off event loops.
public struct SnapshotFile: Sendable {
    /// The format version this build writes.
    public static let formatVersion: UInt32 = 3
    static let magic = Array("PISYNCSS".utf8)
    static let headerSize = 16
    enum Tag: UInt8 { case header = 1, device = 2, trailer = 3, alerts = 4 }
    /// Alerts per `SnapshotAlerts` record: under 2 MB even with the longest device ids.
    static let alertsPerRecord = 10_000
    /// Events per device record: about 12 MB at most, far under ``RecordFrame/maxBodySize``.
    public static let eventsPerRecord = 1 << 20

    /// The directory holding the snapshot.
    public let directory: String
    /// The snapshot's path.
    public var path: String { directory + "/snapshot.pisync" }
    var temporaryPath: String { path + ".tmp" }

    /// Names the snapshot of `directory` (created on first write).
    public init(directory: String) {
        self.directory = directory
    }

    /// Writes `store` as the new snapshot, shard by shard (recording goes on meanwhile), and
    /// replaces the old one. `logSequence` must have been read before the call: every log
    /// record up to it is then in the store, and so in the snapshot.
    /// A device with more than `eventsPerRecord` events is written as several consecutive
    /// records (tests make it small).
    /// `beforeReplacing` runs once the new file is complete and synced, before it replaces the
    /// old one: the server waits there until the log is durable through everything the
    /// snapshot copied, so that a snapshot never holds an alert (or event) that a crash could
    /// take back from the log.
    public func write(
        _ store: SyncStore, logSequence: UInt64, takenAt: Int64, eventsPerRecord: Int = SnapshotFile.eventsPerRecord,
        beforeReplacing: () throws(StorageIOError) -> Void = {}
    ) throws(SnapshotError) -> SnapshotSummary {
        do {
            try PosixFileSystem().createDirectories(directory)
            var writer = try BufferedFileWriter(path: temporaryPath)
            var summary = SnapshotSummary(
                logSequence: logSequence, takenAt: takenAt, devices: 0, events: 0, lastAlertSequence: 0, bytes: 0)
            try writer.append(Self.magic + Self.formatVersion.littleEndianBytes + [0, 0, 0, 0])
            try writer.append(record: .header, Pisync_Storage_V1_SnapshotHeader.with {
                $0.logSequence = logSequence
                $0.takenAt = takenAt
                $0.archiveCycle = store.archiveCycle
            })
            for shard in 0..<store.shardCount {
                for device in store.devices(inShard: shard) {
                    // A long history goes in several consecutive records, each well under the
                    // largest record a reader accepts; the reader joins them.
                    var start = 0
                    repeat {
                        let end = min(device.events.count, start + max(1, eventsPerRecord))
                        var chunk = device
                        chunk.events = Array(device.events[start..<end])
                        try writer.append(record: .device, Pisync_Storage_V1_StoredDevice(chunk))
                        start = end
                    } while start < device.events.count
                    summary.devices += 1
                    summary.events += device.events.count
                }
            }
            // Read after the shards: every alert reflected in them is numbered at or below it,
            // and is in the history (numbered and kept under one lock).
            let history = store.alertHistory
            summary.lastAlertSequence = history.lastSequence
            for start in stride(from: 0, to: history.alerts.count, by: Self.alertsPerRecord) {
                let part = history.alerts[start..<min(history.alerts.count, start + Self.alertsPerRecord)]
                try writer.append(record: .alerts, Pisync_Storage_V1_SnapshotAlerts.with {
                    $0.alerts = part.map(Pisync_Storage_V1_StoredAlert.init)
                })
            }
            try writer.append(record: .trailer, Pisync_Storage_V1_SnapshotTrailer.with {
                $0.devices = UInt64(summary.devices)
                $0.events = UInt64(summary.events)
                $0.lastAlertSequence = summary.lastAlertSequence
            })
            summary.bytes = try writer.finish()
            try beforeReplacing()
            guard rename(temporaryPath, path) == 0 else {
                throw StorageIOError(operation: "rename", path: path, errno: errno)
            }
            try PosixFileSystem().syncDirectory(directory)
            return summary
        } catch let error as StorageIOError {
            throw .io(error)
        } catch {
            throw .io(StorageIOError(operation: "encode", path: temporaryPath, errno: 0))
        }
    }

    /// Loads the snapshot into `store` (an empty one), device by device.
    /// - Returns: what it held, or `nil` when there is no snapshot yet.
    /// - Throws: ``SnapshotError`` when the file is damaged, newer than this build, or unreadable.
    public func load(into store: SyncStore) throws(SnapshotError) -> SnapshotSummary? {
        try reading { reader, version throws -> SnapshotSummary in
            version >= 2 ? try loadRecords(&reader, into: store) : try SnapshotFormat1.load(path: path, into: store)
        }
    }

    /// The log sequence number the snapshot covers, read from its header alone (0 when there
    /// is no snapshot, or for format 1).
    public func coveredLogSequence() throws(SnapshotError) -> UInt64 {
        try reading { reader, version throws -> UInt64 in
            guard version >= 2 else { return 0 }
            guard case .record(let body) = try reader.next(), body.first == Tag.header.rawValue else {
                throw SnapshotError.corrupt(path: path, offset: Int64(Self.headerSize), reason: "no snapshot header record")
            }
            return try Pisync_Storage_V1_SnapshotHeader(serializedBytes: Array(body.dropFirst())).logSequence
        } ?? 0
    }

    /// Opens the snapshot, checks its magic and version (1 to 3) and hands the reader, past
    /// the header, to `body`; `nil` when there is no snapshot. Every error becomes a
    /// ``SnapshotError`` naming the file.
    private func reading<T>(_ body: (inout RecordFileReader, UInt32) throws -> T) throws(SnapshotError) -> T? {
        do {
            guard var reader = try RecordFileReader(path: path) else { return nil }
            guard let start = try reader.readRaw(Self.headerSize), Array(start[0..<8]) == Self.magic else {
                throw SnapshotError.corrupt(path: path, offset: 0, reason: "missing PISYNCSS header")
            }
            let version = start.withUnsafeBytes { UInt32(littleEndianAt: 8, of: $0) }
            switch version {
            case 1...Self.formatVersion:
                return try body(&reader, version)
            case Self.formatVersion + 1...255:
                throw SnapshotError.unsupportedVersion(path: path, version: version)
            default:
                throw SnapshotError.corrupt(path: path, offset: 8, reason: "format version \(version) is not one any build wrote")
            }
        } catch let error as SnapshotError {
            throw error
        } catch let error as StorageIOError {
            throw .io(error)
        } catch {
            throw .corrupt(path: path, offset: 0, reason: "\(error)")
        }
    }

    private func loadRecords(_ reader: inout RecordFileReader, into store: SyncStore) throws -> SnapshotSummary {
        var summary = SnapshotSummary(
            logSequence: 0, takenAt: 0, devices: 0, events: 0, lastAlertSequence: 0, bytes: reader.fileSize)
        var sawHeader = false
        var pending: DeviceRecord?
        while true {
            let offset = reader.offset
            let body: [UInt8]
            switch try reader.next() {
            case .record(let bytes):
                body = bytes
            case .end, .cutShort:
                throw SnapshotError.corrupt(path: path, offset: offset, reason: "file ends before the snapshot's trailer")
            case .damaged(let reason, _):
                throw SnapshotError.corrupt(path: path, offset: offset, reason: reason)
            }
            guard let first = body.first, let tag = Tag(rawValue: first), sawHeader || tag == .header else {
                throw SnapshotError.corrupt(path: path, offset: offset, reason: "unexpected record")
            }
            let message = body[1...]
            switch tag {
            case .header:
                let header = try Pisync_Storage_V1_SnapshotHeader(serializedBytes: Array(message))
                summary.logSequence = header.logSequence
                summary.takenAt = header.takenAt
                store.restoreArchiveCycle(header.archiveCycle)
                sawHeader = true
            case .device:
                let device = try Pisync_Storage_V1_StoredDevice(serializedBytes: Array(message))
                let events = try device.storedEvents()
                if pending?.deviceID == device.deviceID {
                    pending?.events += events  // the next part of a long history
                } else {
                    if let complete = pending { store.restore(complete) }
                    pending = DeviceRecord(
                        deviceID: device.deviceID, events: events, streakAlerted: device.streakAlerted,
                        archived: device.hasArchived ? ArchivedPart(device.archived) : nil)
                    summary.devices += 1
                }
                summary.events += events.count
            case .alerts:
                if let complete = pending { store.restore(complete) }
                pending = nil
                let part = try Pisync_Storage_V1_SnapshotAlerts(serializedBytes: Array(message))
                store.restoreAlerts(try part.alerts.map { try FailureAlert($0) })
            case .trailer:
                if let complete = pending { store.restore(complete) }
                pending = nil
                let trailer = try Pisync_Storage_V1_SnapshotTrailer(serializedBytes: Array(message))
                guard trailer.devices == summary.devices, trailer.events == summary.events else {
                    throw SnapshotError.corrupt(
                        path: path, offset: offset,
                        reason: "trailer counts \(trailer.devices) devices and \(trailer.events) events, "
                            + "the file holds \(summary.devices) and \(summary.events)")
                }
                summary.lastAlertSequence = trailer.lastAlertSequence
                store.raiseAlertSequence(to: trailer.lastAlertSequence)
                return summary
            }
        }
    }
}

extension Pisync_Storage_V1_StoredDevice {
    /// The device in format 2's columns.
    init(_ record: DeviceRecord) {
        self.init()
        deviceID = record.deviceID
        streakAlerted = record.streakAlerted
        timestamps = record.events.map(\.timestamp)
        totalFilesSynced = record.events.map(\.filesSynced)
        totalErrors = record.events.map(\.errors)
        internetSpeed = record.events.map(\.internetSpeed)
        if let part = record.archived { archived = Pisync_Storage_V1_ArchivedPart(part) }
    }

    /// The device's events, from format 2's columns or format 1's messages.
    func storedEvents() throws -> [StoredSync] {
        guard events.isEmpty else {
            return events.map {
                StoredSync(
                    timestamp: $0.timestamp, filesSynced: $0.totalFilesSynced, errors: $0.totalErrors,
                    internetSpeed: $0.internetSpeed)
            }
        }
        let count = timestamps.count
        guard totalFilesSynced.count == count, totalErrors.count == count, internetSpeed.count == count else {
            throw LogRecordError("device \(deviceID): event columns of different lengths")
        }
        return [StoredSync](unsafeUninitializedCapacity: count) { buffer, initialized in
            for index in 0..<count {
                buffer.initializeElement(
                    at: index,
                    to: StoredSync(
                        timestamp: timestamps[index], filesSynced: totalFilesSynced[index], errors: totalErrors[index],
                        internetSpeed: internetSpeed[index]))
            }
            initialized = count
        }
    }
}

extension Pisync_Storage_V1_ArchivedPart {
    init(_ part: ArchivedPart) {
        self.init()
        events = UInt64(part.events)
        failed = UInt64(part.failed)
        if let last = part.lastFailure { (lastFailure, lastFailureKnown) = (last, true) }
        if let last = part.lastSuccess { (lastSuccess, lastSuccessKnown) = (last, true) }
        newest = part.newest
        failureRun = UInt64(part.failureRun)
        failureRunStart = part.failureRunStart
    }
}

extension ArchivedPart {
    init(_ part: Pisync_Storage_V1_ArchivedPart) {
        self.init(
            events: Int(clamping: part.events), failed: Int(clamping: part.failed),
            lastFailure: part.lastFailureKnown ? part.lastFailure : nil,
            lastSuccess: part.lastSuccessKnown ? part.lastSuccess : nil, newest: part.newest,
            failureRun: Int(clamping: part.failureRun), failureRunStart: part.failureRunStart)
    }
}
