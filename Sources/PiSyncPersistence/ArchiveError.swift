/// An archive file, or the archive's pending-pass file, that cannot be read.
public struct ArchiveError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file.
    public var path: String
    /// Where in it the problem is.
    public var offset: Int64
    /// What is wrong.
    public var reason: String

    /// Creates an error.
    public init(path: String, offset: Int64, reason: String) {
        self.path = path
        self.offset = offset
        self.reason = reason
    }

    public var description: String { "archive file \(path) at offset \(offset): \(reason)" }
}
