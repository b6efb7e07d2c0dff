#if canImport(Glibc)
import Glibc
#endif

/// Small blocking file queries the archive needs beside ``StorageFileSystem``.
enum FileProbe {
    /// Whether `path` exists.
    static func exists(_ path: String) -> Bool {
        var status = stat()
        return stat(path, &status) == 0
    }

    /// The size of `path`; 0 when it does not exist.
    static func size(_ path: String) throws(StorageIOError) -> Int64 {
        var status = stat()
        guard stat(path, &status) == 0 else {
            if errno == ENOENT { return 0 }
            throw StorageIOError(operation: "stat", path: path, errno: errno)
        }
        return Int64(status.st_size)
    }

    /// A small file's text; `nil` when it cannot be read.
    static func text(_ path: String) -> String? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let read = fread(&chunk, 1, chunk.count, file)
            if read <= 0 { break }
            bytes += chunk[..<read]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
