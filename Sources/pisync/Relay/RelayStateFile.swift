import Foundation
import NIOPosix
import PiSyncPersistence

/// The relay's state file: the sequence number of the last alert or recovery it delivered, as
/// one decimal line, so that a restart resumes after it with no loss and no repeat.
///
/// Each write goes to `PATH.tmp`, is fsync'd, renamed over `PATH`, and then the directory is
/// fsync'd: after a crash the file holds the old number or the new one, never a torn one. An
/// exclusive lock on `PATH.lock`, held while the relay runs, keeps a second relay off it.
final class RelayStateFile: Sendable {
    /// The state file.
    let path: String
    private let lock: ExclusiveFileLock
    private let files = PosixFileSystem()

    /// Takes the lock (creating `PATH.lock`, which also shows that the directory is writable).
    /// - Throws: ``RelayStateError`` when another relay holds the lock or the lock file cannot
    ///   be created.
    init(path: String) throws(RelayStateError) {
        self.path = path
        do {
            lock = try ExclusiveFileLock(path: path + ".lock")
        } catch {
            if ExclusiveFileLock.isHeldElsewhere(error) { throw .held(path: path) }
            throw .io(error)
        }
    }

    /// The last delivered sequence number, or `nil` when the file does not exist yet.
    func read() throws(RelayStateError) -> UInt64? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw .unreadable(path: path, reason: (error as NSError).localizedDescription)
        }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let sequence = UInt64(trimmed) else { throw .malformed(path: path, content: String(trimmed.prefix(40))) }
        return sequence
    }

    /// Replaces the file's number with `sequence`, durably, on a thread of NIO's blocking pool.
    func write(_ sequence: UInt64) async throws {
        try await NIOThreadPool.singleton.runIfActive { try self.writeNow(sequence) }
    }

    /// The write itself: temp file, fsync, rename, directory fsync.
    func writeNow(_ sequence: UInt64) throws {
        let temporary = path + ".tmp"
        try files.remove(temporary)
        let descriptor = try files.openForAppend(temporary)
        do {
            try Array("\(sequence)\n".utf8).withUnsafeBytes { try files.write(descriptor, $0, path: temporary) }
            try files.sync(descriptor, path: temporary)
        } catch {
            files.close(descriptor)
            throw error
        }
        files.close(descriptor)
        try files.rename(temporary, to: path)
        try files.syncDirectory(directory)
    }

    /// The directory that holds the file.
    private var directory: String {
        let parent = (path as NSString).deletingLastPathComponent
        return parent.isEmpty ? "." : parent
    }
}
