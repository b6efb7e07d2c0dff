import PiSyncTestSupport
import Foundation
import PiSyncPersistence
import PiSyncStore
import Synchronization
import Testing

/// Write-ahead log fixtures (no suite lives here).

/// The real file system, with `write` and `sync` that can be made to fail (disk full, I/O
/// error) and counted, and a simulated `fdatasync` latency.
final class FaultInjectingFileSystem: StorageFileSystem {
    struct Plan: Sendable {
        /// Paths whose writes fail with `writeErrno`, after writing half the bytes (as a full
        /// disk can); `nil`: none.
        var failWrite: (@Sendable (String) -> Bool)?
        var writeErrno: Int32 = 28  // ENOSPC
        /// Paths whose `fdatasync` fails with `syncErrno` (nothing is synced); `nil`: none.
        var failSync: (@Sendable (String) -> Bool)?
        var syncErrno: Int32 = 5  // EIO
        /// Paths whose `open` fails with EMFILE (24); `nil`: none.
        var failOpen: (@Sendable (String) -> Bool)?
        /// How long each successful `fdatasync` takes on top of the real one.
        var syncDelay: Duration = .zero
    }

    private let real = PosixFileSystem()
    private let plan = Mutex(Plan())
    private let writeCount = Atomic<Int>(0)
    private let syncCount = Atomic<Int>(0)
    private let failureCount = Atomic<Int>(0)
    private let openDescriptors = Mutex<Set<Int32>>([])
    private let staleCount = Atomic<Int>(0)

    /// Successful and failed `write` calls.
    var writes: Int { writeCount.load(ordering: .relaxed) }
    /// Successful and failed `sync` calls.
    var syncs: Int { syncCount.load(ordering: .relaxed) }
    /// Calls made to fail.
    var injectedFailures: Int { failureCount.load(ordering: .relaxed) }
    /// Writes, syncs and truncates on a descriptor this file system had closed (or never
    /// opened): the number may since name another file.
    var staleDescriptorUses: Int { staleCount.load(ordering: .relaxed) }

    /// Counts a use of a descriptor that is not open, and refuses it (EBADF) rather than let it
    /// reach a file another test may have opened under that number since.
    private func checkOpen(_ descriptor: Int32, path: String) throws(StorageIOError) {
        if descriptor >= 0, !openDescriptors.withLock({ $0.contains(descriptor) }) {
            staleCount.add(1, ordering: .relaxed)
            throw StorageIOError(operation: "stale descriptor", path: path, errno: 9)
        }
    }

    /// Changes the plan (from the test; the log's thread only reads it).
    func update(_ change: (inout Plan) -> Void) {
        var updated = plan.withLock { $0 }
        change(&updated)
        plan.withLock { [updated] in $0 = updated }
    }

    /// Makes every write and/or sync fail (`true`), or succeed again (`false`); opens succeed.
    func failAll(writes: Bool = false, syncs: Bool = false) {
        let always: @Sendable (String) -> Bool = { _ in true }
        update {
            $0.failWrite = writes ? always : nil
            $0.failSync = syncs ? always : nil
            $0.failOpen = nil
        }
    }

    func openForAppend(_ path: String) throws(StorageIOError) -> Int32 {
        if plan.withLock({ $0.failOpen?(path) ?? false }) {
            failureCount.add(1, ordering: .relaxed)
            throw StorageIOError(operation: "open", path: path, errno: 24)
        }
        let descriptor = try real.openForAppend(path)
        openDescriptors.withLock { _ = $0.insert(descriptor) }
        return descriptor
    }

    func write(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws(StorageIOError) {
        try checkOpen(descriptor, path: path)
        writeCount.add(1, ordering: .relaxed)
        let (fails, errno) = plan.withLock { ($0.failWrite?(path) ?? false, $0.writeErrno) }
        if fails {
            failureCount.add(1, ordering: .relaxed)
            try real.write(descriptor, UnsafeRawBufferPointer(rebasing: bytes[..<(bytes.count / 2)]), path: path)
            throw StorageIOError(operation: "write", path: path, errno: errno)
        }
        try real.write(descriptor, bytes, path: path)
    }

    func sync(_ descriptor: Int32, path: String) throws(StorageIOError) {
        try checkOpen(descriptor, path: path)
        syncCount.add(1, ordering: .relaxed)
        let (fails, errno, delay) = plan.withLock { ($0.failSync?(path) ?? false, $0.syncErrno, $0.syncDelay) }
        if fails {
            failureCount.add(1, ordering: .relaxed)
            throw StorageIOError(operation: "fdatasync", path: path, errno: errno)
        }
        try real.sync(descriptor, path: path)
        if delay > .zero { Thread.sleep(forTimeInterval: delay / .seconds(1)) }
    }

    func truncate(_ descriptor: Int32, to length: Int64, path: String) throws(StorageIOError) {
        try checkOpen(descriptor, path: path)
        try real.truncate(descriptor, to: length, path: path)
    }

    func close(_ descriptor: Int32) {
        guard (try? checkOpen(descriptor, path: "")) != nil else { return }
        openDescriptors.withLock { _ = $0.remove(descriptor) }
        real.close(descriptor)
    }

    func syncDirectory(_ path: String) throws(StorageIOError) { try real.syncDirectory(path) }

    func remove(_ path: String) throws(StorageIOError) { try real.remove(path) }

    func fileNames(in directory: String) throws(StorageIOError) -> [String] { try real.fileNames(in: directory) }

    func createDirectories(_ path: String) throws(StorageIOError) { try real.createDirectories(path) }
}

/// A store journaling into a log, both recovered from a data directory.
struct LoggedStore {
    var store: SyncStore
    var log: WriteAheadLog
    var report: RecoveryReport
    var alerts: AlertCollector

    /// Recovers `directory` into a new store (alert threshold 3) and a new log.
    init(
        _ directory: String, fileSystem: any StorageFileSystem = PosixFileSystem(),
        configure: (inout WriteAheadLog.Configuration) -> Void = { _ in }
    ) throws {
        var configuration = WriteAheadLog.Configuration(directory: directory)
        configure(&configuration)
        log = WriteAheadLog(configuration: configuration, fileSystem: fileSystem)
        alerts = AlertCollector()
        store = alerts.makeStore(threshold: 3, journal: log)
        report = try DataDirectory(path: directory, fileSystem: fileSystem).recover(into: store, log: log)
    }

    /// Waits until everything appended so far is durable; fails the test if the log fails.
    func waitUntilDurable(sourceLocation: SourceLocation = #_sourceLocation) async {
        let result = await log.durability(of: log.appendedSequence)
        if case .failure(let error) = result {
            Issue.record("log failed: \(error)", sourceLocation: sourceLocation)
        }
    }
}

extension WriteAheadLog {
    /// What ``whenDurable(_:_:)`` answers for `sequence`.
    func durability(of sequence: UInt64) async -> Result<Void, StorageIOError> {
        await withCheckedContinuation { continuation in
            whenDurable(sequence) { continuation.resume(returning: $0) }
        }
    }
}

/// The segments of `directory`, oldest first.
func segmentPaths(in directory: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: directory)
        .filter { $0.hasPrefix("wal-") && $0.hasSuffix(".log") }
        .sorted()
        .map { directory + "/" + $0 }
}

/// Reads the log of `directory` the way recovery does, collecting the events of every record.
func scanLog(_ directory: String, after snapshotSequence: UInt64 = 0) throws -> (scan: LogScan, events: [[SyncEvent]]) {
    var events: [[SyncEvent]] = []
    let scan = try LogScan.read(directory: directory, after: snapshotSequence) { record in
        events.append(record.devices.flatMap { device in device.events.map { $0.event(of: device.deviceID) } })
    }
    return (scan, events)
}

/// The sequence number in a log record's body.
func sequenceNumber(of record: FramedRecord) -> UInt64 {
    readLittleEndian(UInt64.self, record.body, at: 0)
}

/// Waits (polling every 5 ms, for at most `timeout`) until `condition` holds; returns whether it did.
func eventually(timeout: Duration = .seconds(10), _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while !condition() {
        if ContinuousClock.now >= deadline { return false }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return true
}

/// A scripted workload for log tests: `calls` store calls, each for one device (so one log
/// record each), with failures that raise alerts at threshold 3.
func workload(calls: Int, devices: Int = 4, startingAt start: Int64 = 0) -> [[SyncEvent]] {
    (0..<calls).map { index in
        let device = "pi-\(index % devices)"
        let offset = start + Int64(index)
        // Per device: F F F S F F F P ... so streaks reach the threshold, end and start again.
        let status: SyncStatus = switch (index / devices) % 4 {
        case 3: index % 2 == 0 ? .success : .partial
        default: .failed
        }
        return [event(device, status, at: offset, speed: Float(index % 7))]
    }
}

/// A store without a journal that recorded `calls`: what recovery should rebuild.
func referenceState(_ calls: [[SyncEvent]]) -> ObservableState {
    let store = AlertCollector().makeStore(threshold: 3)
    for call in calls { store.record(call, now: testNow) }
    return store.observableState
}
