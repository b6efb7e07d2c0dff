#if canImport(Glibc)
import Glibc
#endif
import PiSyncStore

/// A PiSync data directory: the snapshot and the write-ahead log segments.
///
/// ``recover(into:log:)`` brings a store back to the state the directory holds: the snapshot,
/// then every log record after the sequence number the snapshot covers.
public struct DataDirectory: Sendable {
    /// The directory.
    public let path: String
    /// The snapshot in it.
    public var snapshot: SnapshotFile { SnapshotFile(directory: path) }
    /// The archive in it (retention).
    public var archive: EventArchive { EventArchive(dataDirectory: path, fileSystem: fileSystem) }
    let fileSystem: any StorageFileSystem

    /// Names the data directory at `path`.
    public init(path: String, fileSystem: any StorageFileSystem = PosixFileSystem()) {
        self.path = path
        self.fileSystem = fileSystem
    }

    /// Loads the snapshot into `store` (an empty one whose journal is `log`), replays the log
    /// after it, then opens `log` for appending and deletes segments the snapshot covers.
    /// - Throws: ``SnapshotError`` or ``WriteAheadLogError``: a damaged snapshot, damage in the
    ///   log before its last record, a newer format. Nothing but segments the loaded snapshot
    ///   covers is modified when it throws.
    public func recover(into store: SyncStore, log: WriteAheadLog) throws -> RecoveryReport {
        let clock = ContinuousClock()
        let started = clock.now
        let snapshot = try self.snapshot.load(into: store)
        let loaded = clock.now
        let snapshotSequence = snapshot?.logSequence ?? 0
        // An archive pass the snapshot does not record is undone: its events are still in the
        // snapshot or the log, and a later pass archives them again.
        let rolledBack = try archive.recover(committedCycle: store.archiveCycle)
        // Segments the snapshot covers are not needed, whatever state they are in: delete them
        // before reading the log, so that damage in them cannot stop the server.
        let covered = try removeCoveredSegments(snapshotSequence)
        var replay = ReplayBuffer(store: store)
        let scan = try LogScan.read(directory: path, fileSystem: fileSystem, after: snapshotSequence) { record in
            replay.add(record)
        }
        replay.flush()
        // Replay's appends can leave arrays with spare capacity, and loading frees many decode
        // buffers the allocator would keep: give both back before serving.
        store.trimCapacity()
        releaseFreedMemory()
        try log.open(after: scan, snapshotSequence: snapshotSequence)
        let removed = try log.removeSegments(coveredBy: snapshotSequence)
        return RecoveryReport(
            snapshot: snapshot, replayedRecords: scan.replayedRecords, replayedEvents: scan.replayedEvents,
            lastSequence: max(scan.lastSequence, snapshotSequence), tornTail: scan.tornTail,
            removedSegments: covered + removed.count, snapshotDuration: loaded - started, duration: clock.now - started,
            archivePassRolledBack: rolledBack)
    }
}

extension DataDirectory {
    /// Deletes every segment whose successor starts at or below `sequence + 1`: all its
    /// records are in the snapshot. The last segment is never deleted.
    func removeCoveredSegments(_ sequence: UInt64) throws -> Int {
        let segments: [LogSegment]
        do throws(StorageIOError) {
            segments = try LogSegment.list(in: path, fileSystem: fileSystem)
        } catch {
            if error.errno == ENOENT { return 0 }  // no data directory yet
            throw error
        }
        let covered = Array(segments.prefix(LogSegment.coveredCount(of: segments, by: sequence)))
        try LogSegment.remove(covered, from: path, fileSystem: fileSystem)
        return covered.count
    }
}

#if canImport(Glibc)
/// glibc's `malloc_trim` (in <malloc.h>, which the Glibc module does not export).
@_silgen_name("malloc_trim")
private func mallocTrim(_ pad: Int) -> Int32
#endif

/// Returns memory freed to the allocator to the OS where the platform allows.
private func releaseFreedMemory() {
    #if canImport(Glibc)
    _ = mallocTrim(0)
    #endif
}
