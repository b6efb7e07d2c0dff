/// Where a ``SyncStore`` writes down every change it makes, before the change can be
/// acknowledged: the write-ahead log, in a server that persists.
///
/// `append` is called with the shard's lock held, so the records of one device reach the
/// journal in the order they were applied. It must be quick and must not block on I/O: it
/// hands the record to a writer, it does not write it.
public protocol SyncJournal: Sendable {
    /// Records `events`, newly stored in one shard in this order, and the alerts and recovery
    /// notices they raised, numbered, in sequence order (usually none).
    func append(_ events: [SyncEvent], alerts: [FailureAlert])
}
