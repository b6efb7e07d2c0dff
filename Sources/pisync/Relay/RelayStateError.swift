import PiSyncPersistence

/// Why the relay's state file cannot be used.
enum RelayStateError: Error, Sendable, CustomStringConvertible {
    /// Another relay holds `PATH.lock`.
    case held(path: String)
    /// The file exists but does not hold a sequence number.
    case malformed(path: String, content: String)
    /// The file exists but cannot be read.
    case unreadable(path: String, reason: String)
    /// A system call on the file or its lock failed.
    case io(StorageIOError)

    var description: String {
        switch self {
        case .held(let path):
            "another pisync relay is using the state file \(path) (it holds \(path).lock)"
        case .malformed(let path, let content):
            "the state file \(path) does not hold a sequence number (it holds '\(content)'): "
                + "write the last delivered sequence number into it, or delete it to start from the live stream"
        case .unreadable(let path, let reason):
            "cannot read the state file \(path): \(reason)"
        case .io(let error):
            "cannot use the state file: \(error)"
        }
    }
}
