#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The snapshot file in a data directory: a fixed header, then the body.
///
/// Header (24 bytes, little-endian): magic `PISYNCSS`, format version (UInt32), CRC-32 of the
/// body (UInt32), body length (UInt64). A snapshot is replaced atomically: written to a temp
/// file, fsync'd, renamed over the old one, and the directory fsync'd, so a crash leaves either
/// the old snapshot or the new one, never a mix. These calls block: run them off event loops.
public struct SnapshotFile: Sendable {
    /// The format version this build writes and reads.
    public static let formatVersion: UInt32 = 1
    static let magic = Array("PISYNCSS".utf8)
    static let headerSize = 24

    /// The directory holding the snapshot.
    public let directory: String
    /// The snapshot's path.
    public var path: String { directory + "/snapshot.pisync" }
    private var temporaryPath: String { path + ".tmp" }

    /// Names the snapshot of `directory` (created on first write).
    public init(directory: String) {
        self.directory = directory
    }

    /// Atomically replaces the snapshot with `body`.
    public func write(_ body: [UInt8]) throws(SnapshotError) {
        try Self.makeDirectories(directory)
        var file = Self.header(for: body)
        file += body
        let descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw .io(operation: "open", path: temporaryPath, errno: errno) }
        let written = Result { () throws(SnapshotError) in
            try Self.writeAll(file, to: descriptor, path: temporaryPath)
            guard fsync(descriptor) == 0 else { throw .io(operation: "fsync", path: temporaryPath, errno: errno) }
        }
        close(descriptor)
        try written.get()
        guard rename(temporaryPath, path) == 0 else { throw .io(operation: "rename", path: path, errno: errno) }
        try Self.syncDirectory(directory)
    }

    /// The body of the snapshot, or `nil` when there is none yet.
    /// - Throws: ``SnapshotError`` when the file is damaged, newer than this build, or unreadable.
    public func read() throws(SnapshotError) -> [UInt8]? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            if errno == ENOENT { return nil }
            throw .io(operation: "open", path: path, errno: errno)
        }
        defer { close(descriptor) }
        var file: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { systemRead(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .io(operation: "read", path: path, errno: errno)
            }
            if count == 0 { break }
            file += chunk[0..<count]
        }
        return try Self.body(of: file)
    }

    /// Checks a whole file's header and returns its body.
    static func body(of file: [UInt8]) throws(SnapshotError) -> [UInt8] {
        guard file.count >= headerSize, Array(file[0..<8]) == magic else {
            throw .corrupt("missing PISYNCSS header")
        }
        let version = UInt32(littleEndianBytes: file[8..<12])
        guard version <= formatVersion else { throw .unsupportedVersion(version) }
        let checksum = UInt32(littleEndianBytes: file[12..<16])
        let length = UInt64(littleEndianBytes: file[16..<24])
        guard length == UInt64(file.count - headerSize) else {
            throw .corrupt("header says \(length) body bytes, file has \(file.count - headerSize)")
        }
        let body = Array(file[headerSize...])
        guard CRC32.checksum(body) == checksum else { throw .corrupt("body checksum mismatch") }
        return body
    }

    static func header(for body: [UInt8]) -> [UInt8] {
        magic + formatVersion.littleEndianBytes + CRC32.checksum(body).littleEndianBytes
            + UInt64(body.count).littleEndianBytes
    }

    private static func writeAll(_ bytes: [UInt8], to descriptor: Int32, path: String) throws(SnapshotError) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { systemWrite(descriptor, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                throw .io(operation: "write", path: path, errno: errno)
            }
            offset += written
        }
    }

    private static func syncDirectory(_ directory: String) throws(SnapshotError) {
        let descriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .io(operation: "open", path: directory, errno: errno) }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw .io(operation: "fsync", path: directory, errno: errno) }
    }

    /// `mkdir -p`.
    static func makeDirectories(_ directory: String) throws(SnapshotError) {
        var prefix = directory.hasPrefix("/") ? "/" : ""
        for component in directory.split(separator: "/") {
            prefix += component + "/"
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
                throw .io(operation: "mkdir", path: prefix, errno: errno)
            }
        }
    }
}

extension FixedWidthInteger {
    fileprivate var littleEndianBytes: [UInt8] {
        withUnsafeBytes(of: littleEndian) { Array($0) }
    }

    fileprivate init(littleEndianBytes bytes: ArraySlice<UInt8>) {
        self = bytes.reversed().reduce(0) { ($0 << 8) | Self($1) }
    }
}

#if canImport(Glibc)
private let systemRead = Glibc.read
private let systemWrite = Glibc.write
#elseif canImport(Darwin)
private let systemRead = Darwin.read
private let systemWrite = Darwin.write
#endif
