#if canImport(Glibc)
import Glibc
#endif
import PiSyncStore
import SwiftProtobuf

/// The archive of a data directory: the events retention moved out of memory, in append-only
/// files `archive/YYYY-MM-DD.pisync`, one per UTC day of the events' timestamps.
///
/// A file is a 16-byte header (magic `PISYNCAR`, format version UInt32 LE, 4 zero bytes), then
/// records framed as in the log (``RecordFrame``), each body one `ArchivedEvent`, field for
/// field the wire's `pisync.v1.SyncEvent`.
///
/// A pass that moves events out of memory is made crash-safe by an undo record: before it
/// appends, ``append(_:cycle:)`` writes `archive/PENDING` (the pass number and the length of
/// every file it is about to extend, fsync'd and renamed into place). The pass is committed by
/// the next snapshot, which records its number and no longer holds its events; then
/// ``commit(through:)`` deletes `PENDING`. At recovery, a pending pass newer than the snapshot
/// (a crash before the snapshot) is rolled back: its files are cut to their recorded lengths,
/// and its events, still in the snapshot and log, are archived again by a later pass. An event
/// is so never lost and never archived twice. These calls block: run them off event loops.
public struct EventArchive: Sendable {
    /// The format version this build writes.
    public static let formatVersion: UInt32 = 1
    static let magic = Array("PISYNCAR".utf8)
    static let headerSize = 16
    static let fileSuffix = ".pisync"
    static let pendingName = "PENDING"

    /// The archive's directory, `archive/` in the data directory.
    public let directory: String
    let dataDirectory: String
    let fileSystem: any StorageFileSystem

    /// Names the archive of the data directory at `dataDirectory` (created on first append).
    public init(dataDirectory: String, fileSystem: any StorageFileSystem = PosixFileSystem()) {
        self.dataDirectory = dataDirectory
        self.directory = dataDirectory + "/archive"
        self.fileSystem = fileSystem
    }

    /// The file of `day`.
    public func path(of day: ArchiveDay) -> String { directory + "/" + day.fileName }
    var pendingPath: String { directory + "/" + Self.pendingName }

    /// Appends the events of `devices` to their days' files and makes them durable (every file
    /// fdatasync'd, the directory fsync'd) before returning, after recording the pass `cycle`
    /// as pending. Call ``commit(through:)`` once a snapshot without the events is written.
    /// - Returns: the number of events appended.
    @discardableResult
    public func append(_ devices: [DeviceRecord], cycle: UInt64) throws(StorageIOError) -> Int {
        var byDay: [ArchiveDay: [UInt8]] = [:]
        var count = 0
        for device in devices {
            for event in device.events {
                let body = Self.encode(event, of: device.deviceID)
                body.withUnsafeBytes { RecordFrame.append($0, to: &byDay[ArchiveDay(timestamp: event.timestamp), default: []]) }
                count += 1
            }
        }
        guard !byDay.isEmpty else { return 0 }
        let days = byDay.keys.sorted()
        let created = !FileProbe.exists(directory)
        try fileSystem.createDirectories(directory)
        if created { try fileSystem.syncDirectory(dataDirectory) }
        let sizes = try days.map { day throws(StorageIOError) in (day, try FileProbe.size(path(of: day))) }
        try writePending(cycle: cycle, sizes: sizes)
        for (day, size) in sizes {
            let header = size == 0 ? Self.magic + Self.formatVersion.littleEndianBytes + [0, 0, 0, 0] : []
            try appendDurably(header + (byDay[day] ?? []), to: path(of: day))
        }
        try fileSystem.syncDirectory(directory)
        return count
    }

    /// Forgets the pending pass once a snapshot at or after pass `cycle` is durable.
    public func commit(through cycle: UInt64) throws(StorageIOError) {
        guard let pending = try? readPending(), pending.cycle <= cycle else { return }
        try fileSystem.remove(pendingPath)
        try fileSystem.syncDirectory(directory)
    }

    /// The number of the pass pending (appended, not yet committed by a snapshot), if any.
    public func pendingCycle() -> UInt64? {
        guard FileProbe.exists(pendingPath) else { return nil }
        return (try? readPending())?.cycle ?? .max
    }

    /// Brings the archive back to the state of the snapshot that was loaded, whose last pass
    /// is `committedCycle`: a newer pending pass is rolled back (its files cut to their lengths
    /// before it). Call after loading the snapshot, before serving.
    /// - Returns: the pass rolled back, if any.
    /// - Throws: ``ArchiveError`` when `PENDING` is unreadable, or I/O errors.
    @discardableResult
    public func recover(committedCycle: UInt64) throws -> UInt64? {
        guard FileProbe.exists(pendingPath) else { return nil }
        let pending = try readPending()
        if pending.cycle <= committedCycle {
            try commit(through: committedCycle)
            return nil
        }
        for (name, size) in pending.sizes {
            let path = directory + "/" + name
            if size == 0 {
                try fileSystem.remove(path)
                continue
            }
            guard FileProbe.exists(path) else { continue }
            let descriptor = try fileSystem.openForAppend(path)
            defer { fileSystem.close(descriptor) }
            try fileSystem.truncate(descriptor, to: size, path: path)
            try fileSystem.sync(descriptor, path: path)
        }
        try fileSystem.remove(pendingPath)
        try fileSystem.syncDirectory(directory)
        return pending.cycle
    }

    /// One event's record body.
    static func encode(_ event: StoredSync, of deviceID: String) -> [UInt8] {
        let message = Pisync_Storage_V1_ArchivedEvent.with {
            $0.deviceID = deviceID
            $0.timestamp = event.timestamp
            $0.totalFilesSynced = event.filesSynced
            $0.totalErrors = event.errors
            $0.internetSpeed = event.internetSpeed
            $0.syncStatus = Int32(event.status.wireValue)
        }
        return (try? message.serializedBytes()) ?? []
    }

    private func appendDurably(_ bytes: [UInt8], to path: String) throws(StorageIOError) {
        let descriptor = try fileSystem.openForAppend(path)
        defer { fileSystem.close(descriptor) }
        try fileSystem.write(descriptor, bytes, path: path)
        try fileSystem.sync(descriptor, path: path)
    }

    private func writePending(cycle: UInt64, sizes: [(ArchiveDay, Int64)]) throws(StorageIOError) {
        let text = "pisync-archive-pass \(cycle)\n" + sizes.map { "\($0.0.fileName) \($0.1)\n" }.joined()
        let temporary = pendingPath + ".tmp"
        try fileSystem.remove(temporary)
        try appendDurably(Array(text.utf8), to: temporary)
        try fileSystem.rename(temporary, to: pendingPath)
        try fileSystem.syncDirectory(directory)
    }

    private func readPending() throws -> (cycle: UInt64, sizes: [(String, Int64)]) {
        let damaged = { (reason: String) in ArchiveError(path: pendingPath, offset: 0, reason: reason) }
        guard let text = FileProbe.text(pendingPath) else { throw damaged("cannot be read") }
        let lines = text.split(separator: "\n")
        guard let first = lines.first, first.hasPrefix("pisync-archive-pass "),
            let cycle = UInt64(first.dropFirst("pisync-archive-pass ".count))
        else { throw damaged("no pass number") }
        let sizes = try lines.dropFirst().map { line in
            let fields = line.split(separator: " ")
            guard fields.count == 2, fields[0].hasSuffix(Self.fileSuffix), !fields[0].contains("/"),
                let size = Int64(fields[1]), size >= 0
            else { throw damaged("bad line '\(line)'") }
            return (String(fields[0]), size)
        }
        return (cycle, sizes)
    }
}

extension SyncStatus {
    /// The `pisync.v1.SyncStatus` number.
    var wireValue: Int {
        switch self {
        case .success: 1
        case .partial: 2
        case .failed: 3
        }
    }
}
