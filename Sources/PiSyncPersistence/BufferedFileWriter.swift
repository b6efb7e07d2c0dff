#if canImport(Glibc)
import Glibc
#endif
import SwiftProtobuf

/// Writes a new file through a 1 MiB buffer; `finish` fsyncs and closes it.
struct BufferedFileWriter: ~Copyable {
    let path: String
    private let descriptor: Int32
    private var buffer: [UInt8] = []
    private var written: Int64 = 0
    private static let flushSize = 1 << 20

    init(path: String) throws(StorageIOError) {
        descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw StorageIOError(operation: "open", path: path, errno: errno) }
        self.path = path
        buffer.reserveCapacity(Self.flushSize + 4096)
    }

    deinit { close(descriptor) }

    mutating func append(_ bytes: [UInt8]) throws(StorageIOError) {
        buffer += bytes
        if buffer.count >= Self.flushSize { try flush() }
    }

    /// Appends a framed record: the tag byte, then `message`.
    mutating func append(record tag: SnapshotFile.Tag, _ message: some SwiftProtobuf.Message) throws {
        var body: [UInt8] = [tag.rawValue]
        body += try message.serializedBytes() as [UInt8]
        body.withUnsafeBytes { RecordFrame.append($0, to: &buffer) }
        if buffer.count >= Self.flushSize { try flush() }
    }

    /// Writes what is buffered, fsyncs; returns the file's size.
    mutating func finish() throws(StorageIOError) -> Int64 {
        try flush()
        guard fsync(descriptor) == 0 else { throw StorageIOError(operation: "fsync", path: path, errno: errno) }
        return written
    }

    private mutating func flush() throws(StorageIOError) {
        try PosixFileSystem().write(descriptor, buffer, path: path)
        written += Int64(buffer.count)
        buffer.removeAll(keepingCapacity: true)
    }
}
