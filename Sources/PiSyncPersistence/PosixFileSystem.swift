#if canImport(Glibc)
import Glibc
#endif

/// The real file system, through POSIX calls.
public struct PosixFileSystem: StorageFileSystem {
    /// The file system.
    public init() {}

    public func openForAppend(_ path: String) throws(StorageIOError) -> Int32 {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw StorageIOError(operation: "open", path: path, errno: errno) }
        return descriptor
    }

    public func write(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws(StorageIOError) {
        var offset = 0
        while offset < bytes.count {
            let written = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw StorageIOError(operation: "write", path: path, errno: errno)
            }
            offset += written
        }
    }

    public func sync(_ descriptor: Int32, path: String) throws(StorageIOError) {
        guard fdatasync(descriptor) == 0 else { throw StorageIOError(operation: "fdatasync", path: path, errno: errno) }
    }

    public func truncate(_ descriptor: Int32, to length: Int64, path: String) throws(StorageIOError) {
        guard ftruncate(descriptor, off_t(length)) == 0 else {
            throw StorageIOError(operation: "ftruncate", path: path, errno: errno)
        }
    }

    public func close(_ descriptor: Int32) {
        _ = Glibc.close(descriptor)
    }

    public func syncDirectory(_ path: String) throws(StorageIOError) {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw StorageIOError(operation: "open", path: path, errno: errno) }
        defer { _ = Glibc.close(descriptor) }
        guard fsync(descriptor) == 0 else { throw StorageIOError(operation: "fsync", path: path, errno: errno) }
    }

    public func remove(_ path: String) throws(StorageIOError) {
        guard unlink(path) == 0 || errno == ENOENT else { throw StorageIOError(operation: "unlink", path: path, errno: errno) }
    }

    public func fileNames(in directory: String) throws(StorageIOError) -> [String] {
        guard let stream = opendir(directory) else {
            throw StorageIOError(operation: "opendir", path: directory, errno: errno)
        }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    public func createDirectories(_ path: String) throws(StorageIOError) {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += component + "/"
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
                throw StorageIOError(operation: "mkdir", path: prefix, errno: errno)
            }
        }
    }
}
