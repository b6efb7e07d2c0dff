import PiSyncStore

/// Reads a data directory's archive files (``EventArchive``), for `pisync archive read`. It
/// takes no lock and works while the server runs: a record cut short at the end of a file (a
/// pass being written) ends that file.
public struct ArchiveReader: Sendable {
    /// The archive's directory.
    public let directory: String

    /// Reads the archive of the data directory at `dataDirectory`.
    public init(dataDirectory: String) {
        directory = EventArchive(dataDirectory: dataDirectory).directory
    }

    /// The days that have a file, ascending (none when there is no archive yet).
    public func days() throws(StorageIOError) -> [ArchiveDay] {
        guard FileProbe.exists(directory) else { return [] }
        return try PosixFileSystem().fileNames(in: directory)
            .filter { $0.hasSuffix(EventArchive.fileSuffix) }
            .compactMap { ArchiveDay($0.dropLast(EventArchive.fileSuffix.count)) }
            .sorted()
    }

    /// Hands every archived event of `day` (every day when `nil`) and of `deviceID` (every
    /// device when `nil`) to `body`, day by day, in the order the files hold them (a device's
    /// events ascending within each pass).
    /// - Throws: ``ArchiveError`` for a damaged file or one newer than this build; I/O errors.
    public func read(
        day: ArchiveDay? = nil, deviceID: String? = nil, _ body: (SyncEvent) throws -> Void
    ) throws {
        for fileDay in try days() where day == nil || day == fileDay {
            try read(path: directory + "/" + fileDay.fileName, deviceID: deviceID, body)
        }
    }

    /// Reads one archive file.
    public func read(path: String, deviceID: String? = nil, _ body: (SyncEvent) throws -> Void) throws {
        guard var reader = try RecordFileReader(path: path) else { return }
        guard let header = try reader.readRaw(EventArchive.headerSize) else { return }  // being created
        guard Array(header[0..<8]) == EventArchive.magic else {
            throw ArchiveError(path: path, offset: 0, reason: "missing PISYNCAR header")
        }
        let version = header.withUnsafeBytes { UInt32(littleEndianAt: 8, of: $0) }
        guard version == EventArchive.formatVersion else {
            throw ArchiveError(path: path, offset: 8, reason: "format version \(version) is not one this build reads (run a newer pisync)")
        }
        while true {
            let offset = reader.offset
            switch try reader.next() {
            case .end, .cutShort:
                return
            case .damaged(let reason, _):
                throw ArchiveError(path: path, offset: offset, reason: reason)
            case .record(let bytes):
                let event: Pisync_Storage_V1_ArchivedEvent
                do {
                    event = try Pisync_Storage_V1_ArchivedEvent(serializedBytes: bytes)
                } catch {
                    throw ArchiveError(path: path, offset: offset, reason: "record does not decode: \(error)")
                }
                guard deviceID == nil || event.deviceID == deviceID else { continue }
                try body(
                    SyncEvent(
                        deviceID: event.deviceID, timestamp: event.timestamp, filesSynced: event.totalFilesSynced,
                        errors: event.totalErrors, internetSpeed: event.internetSpeed))
            }
        }
    }
}
