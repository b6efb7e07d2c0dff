/// When the write-ahead log makes what it wrote durable, and so what an acknowledgement means.
public enum FsyncPolicy: String, Sendable, CaseIterable, CustomStringConvertible {
    /// Acknowledge only after the record is written and `fdatasync`'d (group commit).
    case always
    /// Acknowledge once the record is written to the file; `fdatasync` on a timer.
    case interval
    /// Acknowledge once the record is written to the file; the OS flushes when it likes.
    case never

    public var description: String { rawValue }
}
