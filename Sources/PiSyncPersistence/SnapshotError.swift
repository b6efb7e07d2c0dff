/// Why a snapshot could not be written or read.
public enum SnapshotError: Error, Sendable, CustomStringConvertible {
    /// The file is damaged; the server refuses to start on it rather than lose it.
    case corrupt(path: String, offset: Int64, reason: String)
    /// The file was written by a newer format than this build reads.
    case unsupportedVersion(path: String, version: UInt32)
    /// A system call failed.
    case io(StorageIOError)

    public var description: String {
        switch self {
        case .corrupt(let path, let offset, let reason):
            return "corrupt snapshot \(path) at offset \(offset): \(reason)"
        case .unsupportedVersion(let path, let version):
            return "\(path) has snapshot format version \(version), newer than this build reads "
                + "(\(SnapshotFile.formatVersion)); run a newer pisync"
        case .io(let error):
            return "\(error)"
        }
    }
}
