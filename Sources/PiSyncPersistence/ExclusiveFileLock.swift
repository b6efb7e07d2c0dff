#if canImport(Glibc)
import Glibc
#endif

/// An exclusive `flock` on a file (created when absent), held for as long as this object
/// lives. The kernel releases it when the process dies, `kill -9` included.
public final class ExclusiveFileLock: Sendable {
    /// The lock file.
    public let path: String
    private let descriptor: Int32

    /// Takes the lock, or throws at once: with `errno` `EWOULDBLOCK` when another open file
    /// (another process) holds it.
    public init(path: String) throws(StorageIOError) {
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw StorageIOError(operation: "open", path: path, errno: errno) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let error = errno
            close(descriptor)
            throw StorageIOError(operation: "flock", path: path, errno: error)
        }
        self.path = path
        self.descriptor = descriptor
    }

    /// Whether `error`, from ``init(path:)``, says that another open file holds the lock.
    public static func isHeldElsewhere(_ error: StorageIOError) -> Bool {
        error.operation == "flock" && error.errno == EWOULDBLOCK
    }

    deinit {
        close(descriptor)  // releases the lock
    }
}
