/// Why the write-ahead log cannot be read back, or could not be written.
public enum WriteAheadLogError: Error, Sendable, CustomStringConvertible {
    /// A record before the end of the log is damaged, or records are missing. The server
    /// refuses to start until `pisync repair` truncates the log at `offset` of `path`.
    case corrupt(path: String, offset: Int64, reason: String)
    /// A segment was written by a newer format than this build reads.
    case unsupportedVersion(path: String, version: UInt32)
    /// Reading or writing the data directory failed.
    case io(StorageIOError)

    public var description: String {
        switch self {
        case .corrupt(let path, let offset, let reason):
            return "write-ahead log damaged in \(path) at offset \(offset): \(reason)"
        case .unsupportedVersion(let path, let version):
            return "\(path) has log format version \(version), newer than this build reads "
                + "(\(LogSegment.formatVersion)); run a newer pisync"
        case .io(let error):
            return "\(error)"
        }
    }
}
