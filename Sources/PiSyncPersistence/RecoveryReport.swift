/// What recovering a data directory loaded, for the startup log.
public struct RecoveryReport: Sendable, CustomStringConvertible {
    /// The snapshot loaded, if there was one.
    public var snapshot: SnapshotSummary?
    /// Log records replayed after the snapshot.
    public var replayedRecords: Int
    /// Events in them.
    public var replayedEvents: Int
    /// The last log sequence number recovered.
    public var lastSequence: UInt64
    /// A record cut short at the end of the log (a crash mid-write), which was dropped.
    public var tornTail: LogScan.TornTail?
    /// Log segments deleted because the snapshot covers them.
    public var removedSegments: Int
    /// How long loading the snapshot took.
    public var snapshotDuration: Duration
    /// How long recovery took in all.
    public var duration: Duration
    /// An archive pass that a crash interrupted before a snapshot committed it, undone.
    public var archivePassRolledBack: UInt64? = nil

    public var description: String {
        let snapshotText = snapshot.map { "snapshot: \($0.events) events of \($0.devices) devices (log sequence \($0.logSequence))" }
            ?? "snapshot: none"
        func milliseconds(_ duration: Duration) -> Int { Int((duration / .milliseconds(1)).rounded()) }
        return "\(snapshotText) in \(milliseconds(snapshotDuration)) ms; log: replayed \(replayedRecords) records, "
            + "\(replayedEvents) events, last sequence \(lastSequence)"
            + (archivePassRolledBack.map { "; archive pass \($0) rolled back" } ?? "")
            + "; took \(milliseconds(duration)) ms"
    }
}
