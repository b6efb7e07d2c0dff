import PiSyncStore

/// One retention pass: the events a ``RetentionPolicy`` no longer keeps in memory are appended
/// to the ``EventArchive`` and made durable, and only then taken out of the store.
///
/// The pass stays pending until a snapshot that no longer holds its events is durable: call
/// ``commit()`` after writing one. No new pass starts while one is pending, so a crash rolls
/// back at most one pass (``EventArchive/recover(committedCycle:)``). Blocking: run it off
/// event loops.
public struct Archiver: Sendable {
    /// The store whose events move.
    public let store: SyncStore
    /// Where they go.
    public let archive: EventArchive
    /// What stays in memory.
    public let policy: RetentionPolicy
    /// The most events one pass moves (bounding the memory a pass takes); the rest waits for
    /// the next.
    public let limit: Int

    /// Creates an archiver.
    public init(store: SyncStore, archive: EventArchive, policy: RetentionPolicy, limit: Int = 500_000) {
        self.store = store
        self.archive = archive
        self.policy = policy
        self.limit = max(1, limit)
    }

    /// Moves what is due at `now` (server clock, Unix ms) to the archive.
    /// - Returns: the events moved; 0 when nothing was due or a pass is still pending.
    /// - Throws: ``StorageIOError`` from the archive (nothing has left memory then), or
    ///   ``ArchiveError`` when a pending pass's record cannot be read.
    @discardableResult
    public func pass(now: Int64) throws -> Int {
        guard policy.isEnabled else { return 0 }
        if let pending = archive.pendingCycle() {
            // Its events left memory and its snapshot is not written yet: wait for it.
            guard pending > store.archiveCycle else { return 0 }
            // An append that failed: nothing left memory; undo what it wrote.
            try rollBack()
        }
        let due = store.dueForArchive(policy, now: now, limit: limit)
        guard !due.isEmpty else { return 0 }
        let cycle = store.archiveCycle + 1
        let moved: Int
        do {
            moved = try archive.append(due, cycle: cycle)
        } catch {
            try? rollBack()
            throw error
        }
        store.archive(due, cycle: cycle)
        return moved
    }

    private func rollBack() throws {
        try archive.recover(committedCycle: store.archiveCycle)
    }

    /// Forgets the pending pass; call once a snapshot written after it is durable.
    public func commit() throws(StorageIOError) {
        try archive.commit(through: store.archiveCycle)
    }
}
