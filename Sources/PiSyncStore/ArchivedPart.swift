/// What a device's archived events (those moved out of memory into the archive) contributed to
/// its counters, kept so that counters, streaks and failure totals stay exactly what they were
/// before the events left memory.
///
/// A device's archived events are always older than (or as old as) ``newest``, its archive
/// horizon: an event at or before the horizon that is not in memory is answered as a duplicate
/// and never stored again (the store does not read the archive to check).
public struct ArchivedPart: Sendable, Hashable {
    /// Events archived.
    public var events: Int
    /// Of them, the failed ones.
    public var failed: Int
    /// The newest archived failure, if any.
    public var lastFailure: Int64?
    /// The newest archived success, if any.
    public var lastSuccess: Int64?
    /// The newest archived timestamp: the device's archive horizon.
    public var newest: Int64
    /// The run of failures at the newest end of the archived events (the part of a failure
    /// streak that reaches into the archive).
    public var failureRun: Int
    /// The timestamp of that run's first failure (0 when the run is empty).
    public var failureRunStart: Int64

    /// Creates an archived part.
    public init(
        events: Int, failed: Int, lastFailure: Int64?, lastSuccess: Int64?, newest: Int64, failureRun: Int,
        failureRunStart: Int64
    ) {
        self.events = events
        self.failed = failed
        self.lastFailure = lastFailure
        self.lastSuccess = lastSuccess
        self.newest = newest
        self.failureRun = failureRun
        self.failureRunStart = failureRunStart
    }

    /// The part after archiving `moved` (ascending, newer than everything archived before)
    /// on top of `previous`.
    init(folding moved: [StoredSync], into previous: ArchivedPart?) {
        var part = previous ?? ArchivedPart(
            events: 0, failed: 0, lastFailure: nil, lastSuccess: nil, newest: .min, failureRun: 0, failureRunStart: 0)
        for event in moved {
            part.events += 1
            part.newest = max(part.newest, event.timestamp)
            switch event.status {
            case .failed:
                part.failed += 1
                part.lastFailure = max(part.lastFailure ?? event.timestamp, event.timestamp)
                if part.failureRun == 0 { part.failureRunStart = event.timestamp }
                part.failureRun += 1
            case .success:
                part.lastSuccess = max(part.lastSuccess ?? event.timestamp, event.timestamp)
                (part.failureRun, part.failureRunStart) = (0, 0)
            case .partial:
                (part.failureRun, part.failureRunStart) = (0, 0)
            }
        }
        self = part
    }
}
