#if canImport(Glibc)
import Glibc
#endif

/// An exclusive lock on a data directory (`flock` on its `LOCK` file), held for as long as
/// this object lives, so that a second server, or `pisync repair`, cannot write the same log.
/// The kernel releases it when the process dies, `kill -9` included.
public final class DataDirectoryLock: Sendable {
    /// The lock file.
    public let path: String
    private let descriptor: Int32

    /// Takes the lock of `directory` (creating the directory), or throws at once when
    /// another process holds it.
    public init(directory: String) throws(DataDirectoryLockError) {
        path = directory + "/LOCK"
        do {
            try PosixFileSystem().createDirectories(directory)
        } catch {
            throw .io(error)
        }
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw .io(StorageIOError(operation: "open", path: path, errno: errno)) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let error = errno
            close(descriptor)
            if error == EWOULDBLOCK { throw .held(directory: directory) }
            throw .io(StorageIOError(operation: "flock", path: path, errno: error))
        }
        self.descriptor = descriptor
    }

    deinit {
        close(descriptor)  // releases the lock
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
