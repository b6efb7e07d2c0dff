#if canImport(Glibc)
import Glibc
#endif

/// An exclusive lock on a data directory (`flock` on its `LOCK` file), held for as long as
/// this object lives, so that a second server, or `pisync repair`, cannot write the same log.
/// The kernel releases it when the process dies, `kill -9` included.
public final class DataDirectoryLock: Sendable {
    /// The lock file.
    public var path: String { lock.path }
    private let lock: ExclusiveFileLock

    /// Takes the lock of `directory` (creating the directory), or throws at once when
    /// another process holds it.
    public init(directory: String) throws(DataDirectoryLockError) {
        do {
            try PosixFileSystem().createDirectories(directory)
            lock = try ExclusiveFileLock(path: directory + "/LOCK")
        } catch {
            if ExclusiveFileLock.isHeldElsewhere(error) { throw .held(directory: directory) }
            throw .io(error)
        }
    }
}

/// Why a data directory could not be locked.
public enum DataDirectoryLockError: Error, Sendable, CustomStringConvertible {
    /// Another process (a running server, a repair) holds it.
    case held(directory: String)
    /// The lock file could not be opened.
    case io(StorageIOError)

    public var description: String {
        switch self {
        case .held(let directory):
            return "another pisync process is using the data directory \(directory) (it holds \(directory)/LOCK)"
        case .io(let error):
            return "cannot lock the data directory: \(error)"
        }
    }
}
