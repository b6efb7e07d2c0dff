#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import PiSyncStore

/// Reads a `mongoexport` file one document at a time, in constant memory: JSON lines
/// (mongoexport's default) or one JSON array (`--jsonArray`), told apart by the first byte
/// that is not whitespace.
final class MongoExportReader {
    /// The two layouts mongoexport writes; the raw value is the summary's `format`.
    enum Format: String, Sendable {
        case jsonLines = "json_lines"
        case jsonArray = "json_array"
    }

    /// A document larger than this is refused (MongoDB's own limit is 16 MiB per document).
    let maxDocumentBytes: Int
    /// Bytes read from the file at a time.
    let chunkSize: Int

    /// The file's size, when it is a regular file (a pipe has none).
    let totalBytes: Int64?
    /// Detected from the first bytes; `nil` until the first ``next()``.
    private(set) var format: Format?
    /// Said about the file as a whole, e.g. an array that is never closed.
    private(set) var warnings: [String] = []

    private let path: String
    private let descriptor: Int32
    var buffer: [UInt8] = []
    /// Bytes of the file before `buffer[0]`.
    private var dropped: Int64 = 0
    /// The next byte of `buffer` to look at.
    var cursor = 0
    var endOfFile = false
    /// Lines finished before `cursor` (JSON lines), or newlines scanned (array).
    var lineNumber = 0
    var array = ArrayState()

    /// Opens `path` for reading, `chunkSize` bytes at a time.
    /// - Throws: ``ImportError`` naming the file and the system's reason.
    init(path: String, chunkSize: Int = 1 << 20, maxDocumentBytes: Int = 16 << 20) throws(ImportError) {
        self.path = path
        self.maxDocumentBytes = maxDocumentBytes
        self.chunkSize = max(1, chunkSize)
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw ImportError("cannot open \(path): \(String(cString: strerror(errno)))") }
        var status = stat()
        let kind = fstat(descriptor, &status) == 0 ? status.st_mode & mode_t(S_IFMT) : 0
        guard kind != mode_t(S_IFDIR) else {
            close(descriptor)
            throw ImportError("cannot read \(path): it is a directory")
        }
        self.descriptor = descriptor
        totalBytes = kind == mode_t(S_IFREG) ? Int64(status.st_size) : nil
    }

    deinit {
        close(descriptor)
    }

    /// Bytes of the file dealt with so far, for progress.
    var bytesConsumed: Int64 { dropped + Int64(cursor) }

    /// The next document, or `nil` at the end of the file.
    /// - Throws: ``ImportError`` when the file cannot be read.
    func next() throws(ImportError) -> ExportRow? {
        if format == nil {
            guard let detected = try detectFormat() else { return nil }
            format = detected
        }
        switch format {
        case .jsonArray?: return try nextElement()
        default: return try nextLine()
        }
    }

    private func detectFormat() throws(ImportError) -> Format? {
        while buffer.count - cursor < 3, !endOfFile { try fill() }
        if buffer[cursor...].starts(with: [0xEF, 0xBB, 0xBF]) { cursor += 3 }  // a UTF-8 byte order mark
        while true {
            if let first = buffer[cursor...].first(where: { !Self.isWhitespace($0) }) {
                return first == UInt8(ascii: "[") ? .jsonArray : .jsonLines
            }
            if endOfFile { return nil }
            try fill()
        }
    }

    private func nextLine() throws(ImportError) -> ExportRow? {
        while true {
            if let newline = buffer[cursor...].firstIndex(of: 0x0A) {
                let line = buffer[cursor..<newline]
                cursor = newline + 1
                lineNumber += 1
                if let row = row(line) { return row }
                continue
            }
            if endOfFile {
                guard cursor < buffer.count else { return nil }
                let line = buffer[cursor...]
                cursor = buffer.count
                lineNumber += 1
                if let row = row(line) { return row }
                return nil
            }
            if buffer.count - cursor > maxDocumentBytes {
                let row = ExportRow(.line(lineNumber + 1), [], problem: tooLarge)
                try skipPastNewline()
                lineNumber += 1
                return row
            }
            try fill()
        }
    }

    private func row(_ line: ArraySlice<UInt8>) -> ExportRow? {
        let document = Self.trimmed(line)
        if document.count > maxDocumentBytes { return ExportRow(.line(lineNumber), [], problem: tooLarge) }
        return document.isEmpty ? nil : ExportRow(.line(lineNumber), Array(document))
    }

    private func skipPastNewline() throws(ImportError) {
        while true {
            if let newline = buffer[cursor...].firstIndex(of: 0x0A) {
                cursor = newline + 1
                return
            }
            cursor = buffer.count
            if endOfFile { return }
            try fill()
        }
    }

    /// Reads the next chunk, first dropping what is behind both the cursor and `keepFrom`.
    func fill(keepFrom: Int? = nil) throws(ImportError) {
        let keep = min(cursor, keepFrom ?? cursor)
        if keep > 0 {
            buffer.removeFirst(keep)
            dropped += Int64(keep)
            cursor -= keep
            array.shift(by: keep)
        }
        var failure: Int32 = 0
        let chunk = [UInt8](unsafeUninitializedCapacity: chunkSize) { bytes, initialized in
            let count = bytes.baseAddress.map { read(descriptor, $0, chunkSize) } ?? 0
            if count < 0 { failure = errno }
            initialized = max(0, count)
        }
        guard failure == 0 else { throw ImportError("cannot read \(path): \(String(cString: strerror(failure)))") }
        buffer.append(contentsOf: chunk)
        if chunk.isEmpty { endOfFile = true }
    }

    func warn(_ warning: String) {
        warnings.append(warning)
    }

    var tooLarge: FieldViolation {
        FieldViolation(field: "", message: "the document is larger than \(maxDocumentBytes) bytes")
    }

    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }

    static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        guard let first = bytes.firstIndex(where: { !isWhitespace($0) }), let last = bytes.lastIndex(where: { !isWhitespace($0) })
        else { return [] }
        return bytes[first...last]
    }
}
