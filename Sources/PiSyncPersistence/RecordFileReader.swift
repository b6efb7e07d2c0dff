#if canImport(Glibc)
import Glibc
#endif

/// Reads the framed records of one file in order, a chunk at a time, so that reading a large
/// snapshot or log needs memory for one record, not for the file.
struct RecordFileReader: ~Copyable {
    /// What the next read found.
    enum Next {
        /// A whole record whose checksum matches.
        case record([UInt8])
        /// The file ends cleanly here.
        case end
        /// The file ends inside a record: fewer bytes are left than its frame needs.
        case cutShort(bytesLeft: Int64)
        /// The record's checksum does not match, or its length is impossible.
        /// `reachesEnd` tells whether the record's frame ends exactly at the end of the file.
        case damaged(reason: String, reachesEnd: Bool)
    }

    let path: String
    /// Offset of the next record.
    private(set) var offset: Int64
    /// Size of the file when it was opened.
    let fileSize: Int64
    private let descriptor: Int32
    private var buffer: [UInt8] = []
    private var start = 0

    /// Opens `path`; `nil` when it does not exist.
    init?(path: String, startingAt offset: Int64 = 0) throws(StorageIOError) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            if errno == ENOENT { return nil }
            throw StorageIOError(operation: "open", path: path, errno: errno)
        }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            let error = errno
            close(descriptor)
            throw StorageIOError(operation: "fstat", path: path, errno: error)
        }
        self.path = path
        self.descriptor = descriptor
        self.fileSize = Int64(status.st_size)
        self.offset = offset
        if offset > 0 { lseek(descriptor, off_t(offset), SEEK_SET) }
    }

    deinit { close(descriptor) }

    /// Reads exactly `count` raw bytes (a file header); `nil` when the file is shorter.
    mutating func readRaw(_ count: Int) throws(StorageIOError) -> [UInt8]? {
        guard try fill(count) else { return nil }
        defer { consume(count) }
        return Array(buffer[start..<start + count])
    }

    /// The next record.
    mutating func next() throws(StorageIOError) -> Next {
        let left = fileSize - offset
        if left == 0 { return .end }
        guard try fill(RecordFrame.headerSize) else { return .cutShort(bytesLeft: left) }
        let (length, checksum) = buffer.withUnsafeBytes { raw in
            let header = UnsafeRawBufferPointer(rebasing: raw[start..<start + RecordFrame.headerSize])
            return (Int(UInt32(littleEndianAt: 0, of: header)), UInt32(littleEndianAt: 4, of: header))
        }
        let frameSize = RecordFrame.headerSize + length
        guard length <= RecordFrame.maxBodySize else {
            return .damaged(reason: "record length \(length) exceeds \(RecordFrame.maxBodySize)", reachesEnd: false)
        }
        guard Int64(frameSize) <= left, try fill(frameSize) else { return .cutShort(bytesLeft: left) }
        let body = Array(buffer[start + RecordFrame.headerSize..<start + frameSize])
        guard body.withUnsafeBytes({ CRC32.update(0, $0) }) == checksum else {
            return .damaged(reason: "record checksum mismatch", reachesEnd: Int64(frameSize) == left)
        }
        consume(frameSize)
        return .record(body)
    }

    /// Steps over the record at the current offset whatever its checksum, when its length
    /// fits in the file; false when it does not (nothing after it can be found then).
    mutating func skipRecord() throws(StorageIOError) -> Bool {
        guard try fill(RecordFrame.headerSize) else { return false }
        let length = buffer.withUnsafeBytes { raw in
            Int(UInt32(littleEndianAt: start, of: raw))
        }
        let frameSize = RecordFrame.headerSize + length
        guard length <= RecordFrame.maxBodySize, Int64(frameSize) <= fileSize - offset, try fill(frameSize) else {
            return false
        }
        consume(frameSize)
        return true
    }

    private mutating func consume(_ count: Int) {
        start += count
        offset += Int64(count)
    }

    /// Makes `count` unread bytes available; false at end of file.
    private mutating func fill(_ count: Int) throws(StorageIOError) -> Bool {
        if buffer.count - start >= count { return true }
        buffer.removeFirst(start)
        start = 0
        let wanted = max(count - buffer.count, 1 << 20)
        var failure: Int32 = 0
        // Read straight into uninitialized memory: zero-filling a megabyte first cost more
        // than the read.
        let chunk = [UInt8](unsafeUninitializedCapacity: wanted) { raw, initialized in
            var filled = 0
            while filled < wanted {
                let got = read(descriptor, raw.baseAddress! + filled, wanted - filled)
                if got < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    break
                }
                if got == 0 { break }
                filled += got
            }
            initialized = filled
        }
        if failure != 0 { throw StorageIOError(operation: "read", path: path, errno: failure) }
        buffer += chunk
        return buffer.count >= count
    }
}
