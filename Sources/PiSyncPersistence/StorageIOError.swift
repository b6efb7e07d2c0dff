#if canImport(Glibc)
import Glibc
#endif

/// A system call on the data directory failed.
public struct StorageIOError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The call, e.g. `write` or `fdatasync`.
    public var operation: String
    /// The file or directory it was made on.
    public var path: String
    /// The `errno` it failed with.
    public var errno: Int32

    /// Creates an error.
    public init(operation: String, path: String, errno: Int32) {
        self.operation = operation
        self.path = path
        self.errno = errno
    }

    public var description: String {
        "\(operation) \(path) failed: \(String(cString: strerror(errno))) (errno \(errno))"
    }
}
