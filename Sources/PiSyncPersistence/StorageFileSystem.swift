#if canImport(Glibc)
import Glibc
#endif

/// The file operations the write-ahead log makes, behind one interface so that tests can make
/// them fail (disk full, I/O error) where a real fault cannot be arranged.
///
/// Every call blocks: they run on the log's writer thread and the snapshot thread, never on an
/// event loop.
public protocol StorageFileSystem: Sendable {
    /// Opens `path` for appending, creating it (mode 0644) when absent.
    func openForAppend(_ path: String) throws(StorageIOError) -> Int32
    /// Writes all of `bytes` at the end of the file.
    func write(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws(StorageIOError)
    /// Makes the file's data durable (`fdatasync`).
    func sync(_ descriptor: Int32, path: String) throws(StorageIOError)
    /// Cuts the file to `length` bytes.
    func truncate(_ descriptor: Int32, to length: Int64, path: String) throws(StorageIOError)
    /// Closes the file.
    func close(_ descriptor: Int32)
    /// Makes the directory's entries durable (after a create, rename or unlink).
    func syncDirectory(_ path: String) throws(StorageIOError)
    /// Deletes a file.
    func remove(_ path: String) throws(StorageIOError)
    /// Renames `source` to `destination`, replacing it atomically.
    func rename(_ source: String, to destination: String) throws(StorageIOError)
    /// The names of the files in `directory`.
    func fileNames(in directory: String) throws(StorageIOError) -> [String]
    /// `mkdir -p`.
    func createDirectories(_ path: String) throws(StorageIOError)
}

extension StorageFileSystem {
    /// `rename(2)`; file systems that inject faults elsewhere get the real one.
    public func rename(_ source: String, to destination: String) throws(StorageIOError) {
        guard Glibc.rename(source, destination) == 0 else {
            throw StorageIOError(operation: "rename", path: destination, errno: errno)
        }
    }

    /// Writes all of `bytes` at the end of the file.
    func write(_ descriptor: Int32, _ bytes: [UInt8], path: String) throws(StorageIOError) {
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(StorageIOError) in try write(descriptor, raw, path: path) }
        }
        try result.get()
    }
}
