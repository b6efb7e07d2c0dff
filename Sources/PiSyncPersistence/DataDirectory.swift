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
    let fileSystem: any StorageFileSystem

    /// Names the data directory at `path`.
    public init(path: String, fileSystem: any StorageFileSystem = PosixFileSystem()) {
        self.path = path
        self.fileSystem = fileSystem
    }

    /// Loads the snapshot into `store` (an empty one whose journal is `log`), replays the log
    /// after it, then opens `log` for appending and deletes segments the snapshot covers.
    /// - Throws: ``SnapshotError`` or ``WriteAheadLogError``: a damaged snapshot, damage in the
    ///   log before its last record, a newer format. Nothing is modified when it throws.
    public func recover(into store: SyncStore, log: WriteAheadLog) throws -> RecoveryReport {
        let clock = ContinuousClock()
        let started = clock.now
        let snapshot = try self.snapshot.load(into: store)
        let snapshotSequence = snapshot?.logSequence ?? 0
        let scan = try LogScan.read(directory: path, fileSystem: fileSystem, after: snapshotSequence) { events, alerts in
            store.replay(events, lastAlertSequence: alerts)
        }
        try log.open(after: scan, snapshotSequence: snapshotSequence)
        let removed = try log.removeSegments(coveredBy: snapshotSequence)
        return RecoveryReport(
            snapshot: snapshot, replayedRecords: scan.replayedRecords, replayedEvents: scan.replayedEvents,
            lastSequence: max(scan.lastSequence, snapshotSequence), tornTail: scan.tornTail,
            removedSegments: removed.count, duration: clock.now - started)
    }
}
