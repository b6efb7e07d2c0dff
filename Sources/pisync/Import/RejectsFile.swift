import Foundation

/// The file the rejected rows go to, one JSON line each (see ``ImportRejection``).
///
/// It is created (or emptied) when the import starts, so that a file left by an earlier run
/// never passes for this one's, and removed at the end when nothing was rejected.
final class RejectsFile {
    /// The summary lists this many rejections; the file has all of them.
    static let shownInSummary = 10

    let path: String
    private let handle: FileHandle
    private var pending = Data()
    private(set) var count = 0
    private var finished = false
    /// The first ``shownInSummary`` rejections, for the summary.
    private(set) var first: [ImportRejection] = []

    /// Creates or empties `path`.
    /// - Throws: ``ImportError`` when it cannot be written.
    init(path: String) throws(ImportError) {
        self.path = path
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw ImportError("cannot write the rejects file \(path): \(String(cString: strerror(errno)))")
        }
        self.handle = handle
    }

    /// The default place for the rejects of `input`: `FILE.rejects.jsonl` next to it.
    static func defaultPath(for input: String) -> String {
        input + ".rejects.jsonl"
    }

    func append(_ rejection: ImportRejection) throws {
        count += 1
        if first.count < Self.shownInSummary { first.append(rejection) }
        pending.append(try rejection.jsonLine())
        if pending.count >= 64 << 10 { try flush() }
    }

    /// Writes what is buffered, closes the file, and removes it if nothing was rejected.
    func finish() throws {
        guard !finished else { return }
        finished = true
        try flush()
        try handle.close()
        if count == 0 { try FileManager.default.removeItem(atPath: path) }
    }

    private func flush() throws {
        guard !pending.isEmpty else { return }
        try handle.write(contentsOf: pending)
        pending.removeAll(keepingCapacity: true)
    }
}
