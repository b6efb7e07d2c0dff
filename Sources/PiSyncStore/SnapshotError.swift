/// Why a snapshot could not be written or read.
public enum SnapshotError: Error, Sendable, CustomStringConvertible {
    /// The file is damaged; the store refuses to start on it rather than lose it.
    case corrupt(String)
    /// The file was written by a newer format than this build reads.
    case unsupportedVersion(UInt32)
    /// A system call failed.
    case io(operation: String, path: String, errno: Int32)

    public var description: String {
        switch self {
        case .corrupt(let reason):
            return "corrupt snapshot: \(reason)"
        case .unsupportedVersion(let version):
            return "snapshot format version \(version) is newer than this build reads (\(SnapshotFile.formatVersion))"
        case .io(let operation, let path, let errno):
            return "\(operation) \(path) failed: errno \(errno)"
        }
    }
}
