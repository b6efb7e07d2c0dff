/// The outcome of one sync, derived from its counts and never taken from a client.
public enum SyncStatus: Sendable, Hashable, CaseIterable {
    /// No errors.
    case success
    /// Errors, and at least one file synced.
    case partial
    /// Errors, and no file synced.
    case failed

    /// Derives the status of a sync from its file and error counts.
    public init(filesSynced: UInt32, errors: UInt32) {
        if errors == 0 {
            self = .success
        } else if filesSynced > 0 {
            self = .partial
        } else {
            self = .failed
        }
    }
}
