import Foundation
import PiSyncPersistence
import Synchronization

/// The real file system, with switches a test turns: hold every fdatasync until released (so a
/// record stays not-yet-durable as long as the test needs), or fail writes and syncs the way a
/// full or broken disk does; or hold the listing of a directory, which holds a recovery.
public final class ControlledFileSystem: StorageFileSystem {
    private let posix = PosixFileSystem()
    private let holdingSyncs = Atomic<Bool>(false)
    private let failingWrites = Atomic<Int32>(0)
    private let failingSyncs = Atomic<Int32>(0)
    private let syncCount = Atomic<Int>(0)
    private let holdingListings = Atomic<Bool>(false)

    /// The real file system, with every switch off.
    public init() {}

    /// From now on, fdatasync waits until ``releaseSyncs()``.
    public func holdSyncs() { holdingSyncs.store(true, ordering: .sequentiallyConsistent) }
    /// Lets held and later fdatasyncs through.
    public func releaseSyncs() { holdingSyncs.store(false, ordering: .sequentiallyConsistent) }
    /// Makes writes fail with `errno` (0: succeed again).
    public func failWrites(_ errno: Int32) { failingWrites.store(errno, ordering: .sequentiallyConsistent) }
    /// Makes fdatasync fail with `errno` (0: succeed again).
    public func failSyncs(_ errno: Int32) { failingSyncs.store(errno, ordering: .sequentiallyConsistent) }
    /// fdatasyncs made so far.
    public var syncs: Int { syncCount.load(ordering: .relaxed) }

    public func openForAppend(_ path: String) throws(StorageIOError) -> Int32 { try posix.openForAppend(path) }

    public func write(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws(StorageIOError) {
        let errno = failingWrites.load(ordering: .sequentiallyConsistent)
        if errno != 0 { throw StorageIOError(operation: "write", path: path, errno: errno) }
        try posix.write(descriptor, bytes, path: path)
    }

    public func sync(_ descriptor: Int32, path: String) throws(StorageIOError) {
        while holdingSyncs.load(ordering: .sequentiallyConsistent) { usleep(1000) }
        let errno = failingSyncs.load(ordering: .sequentiallyConsistent)
        if errno != 0 { throw StorageIOError(operation: "fdatasync", path: path, errno: errno) }
        syncCount.add(1, ordering: .relaxed)
        try posix.sync(descriptor, path: path)
    }

    public func truncate(_ descriptor: Int32, to length: Int64, path: String) throws(StorageIOError) {
        try posix.truncate(descriptor, to: length, path: path)
    }

    public func close(_ descriptor: Int32) { posix.close(descriptor) }
    public func syncDirectory(_ path: String) throws(StorageIOError) { try posix.syncDirectory(path) }
    public func remove(_ path: String) throws(StorageIOError) { try posix.remove(path) }
    public func fileNames(in directory: String) throws(StorageIOError) -> [String] {
        while holdingListings.load(ordering: .sequentiallyConsistent) { usleep(1000) }
        return try posix.fileNames(in: directory)
    }
    /// From now on, listing a directory (the first step of recovering a data directory)
    /// waits until ``releaseListings()``.
    public func holdListings() { holdingListings.store(true, ordering: .sequentiallyConsistent) }
    /// Lets held and later listings through.
    public func releaseListings() { holdingListings.store(false, ordering: .sequentiallyConsistent) }
    public func createDirectories(_ path: String) throws(StorageIOError) { try posix.createDirectories(path) }
}
