import Dispatch
import Foundation
import PiSyncStore
import Synchronization

/// The write-ahead log: every change the store makes is appended here before it is
/// acknowledged, and replayed after a crash.
///
/// Appends only copy the record into a buffer, under a lock (the store calls ``append(_:alerts:)``
/// with a shard lock held). Under ``FsyncPolicy/always`` one writer thread takes whatever
/// connections appended meanwhile, writes it with one `write` and one `fdatasync`: group
/// commit. Under `interval` and `never`, where a written record is durable, each event loop
/// writes what was appended itself at the end of its read burst (``writeThrough()``), so an
/// acknowledgement costs no hop to another thread and back; the writer thread keeps the fsync
/// timer, segment roll-over and fault recovery. Whoever waits for a record
/// (``whenDurable(_:_:)``) is called back once it is durable as the policy defines it, or with
/// the error when the disk failed.
public final class WriteAheadLog: SyncJournal, Sendable {
    /// The log's settings.
    public struct Configuration: Sendable {
        /// The data directory the segments live in.
        public var directory: String
        /// When written records count as durable.
        public var fsync: FsyncPolicy = .always
        /// Time between `fdatasync`s under ``FsyncPolicy/interval``.
        public var fsyncInterval: Duration = .seconds(1)
        /// A segment is closed and a new one started once it is this large.
        public var segmentBytes: Int = 16 << 20
        /// How often a log whose disk failed tries again.
        public var retryInterval: Duration = .milliseconds(500)
        /// Where appends and fsync latency are counted.
        public var metrics = LogMetrics.disabled

        /// Settings for a log in `directory`, with the defaults.
        public init(directory: String) {
            self.directory = directory
        }
    }

    /// A caller waiting for a record to be durable.
    struct Waiter {
        var sequence: UInt64
        var callback: @Sendable (Result<Void, StorageIOError>) -> Void
    }

    struct State {
        var pending: [UInt8] = []
        var appended: UInt64
        var durable: UInt64
        var waiters: [Waiter] = []
        var fault: StorageIOError?
        var stopping = false
        var opened = false
        var stopped = false
        var onDurable: (@Sendable (UInt64) -> Void)?
        var onStopped: (@Sendable () -> Void)?
    }

    /// The log's settings.
    public let configuration: Configuration
    let fileSystem: any StorageFileSystem
    let state = Mutex(State(appended: 0, durable: 0))
    let wakeup = DispatchSemaphore(value: 0)
    private let durableMirror = Atomic<UInt64>(0)
    private let appendedMirror = Atomic<UInt64>(0)
    private let appendedBytes = Atomic<UInt64>(0)
    /// Mirrors `state.fault != nil`, so the check every RecordSync makes takes no lock.
    private let faulted = Atomic<Bool>(false)
    let segments = Mutex<[LogSegment]>([])
    /// The writer, once the log is open; every use of it holds this lock.
    private let writer = Mutex<LogWriter?>(nil)
    /// Set while the writer thread holds the lock: its pass may sync, roll a segment or recover
    /// from a fault, and an event loop must not wait for that.
    private let writerThreadBusy = Atomic<Bool>(false)

    /// A log in `configuration.directory`; nothing is read or written until ``open(after:snapshotSequence:)``.
    public init(configuration: Configuration, fileSystem: any StorageFileSystem = PosixFileSystem()) {
        self.configuration = configuration
        self.fileSystem = fileSystem
    }

    /// Opens the log for appending after `scan` (recovery's reading of it) and starts the
    /// writer thread: a torn tail is cut off, and the next record follows
    /// `max(scan.lastSequence, snapshotSequence)`. Call it once, before anything is appended.
    public func open(after scan: LogScan, snapshotSequence: UInt64) throws(WriteAheadLogError) {
        let last = max(scan.lastSequence, snapshotSequence)
        state.withLock { state in
            state.appended = last
            state.durable = last
        }
        durableMirror.store(last, ordering: .releasing)
        appendedMirror.store(last, ordering: .releasing)
        do {
            try fileSystem.createDirectories(configuration.directory)
        } catch {
            throw .io(error)
        }
        let logWriter = try LogWriter(configuration: configuration, fileSystem: fileSystem, scan: scan, nextSequence: last + 1)
        segments.withLock { $0 = logWriter.initialSegments }
        writer.withLock { $0 = logWriter }
        state.withLock { $0.opened = true }
        let thread = Thread { [self] in runWriter() }
        thread.name = "pisync-wal-writer"
        thread.start()
    }

    // MARK: Appending

    public func append(_ events: [SyncEvent], alerts: [FailureAlert]) {
        let payload = LogRecordCodec.encode(events, alerts: alerts)
        let (wasEmpty, size) = state.withLock { state in
            state.appended += 1
            appendedMirror.store(state.appended, ordering: .releasing)
            let before = state.pending.count
            LogSegment.appendRecord(sequence: state.appended, payload: payload, to: &state.pending)
            return (before == 0, state.pending.count - before)
        }
        appendedBytes.add(UInt64(size), ordering: .relaxed)
        configuration.metrics.appends.increment()
        if wasEmpty && !writesThrough { wakeup.signal() }
    }

    /// Whether event loops write appended records themselves (``writeThrough()``): under
    /// `interval` and `never`, where a record counts as durable once written.
    public var writesThrough: Bool { configuration.fsync != .always }

    /// Under `interval` and `never`: writes everything appended so far on the calling thread,
    /// unless the disk is failing (the writer thread then retries), and answers the waiters of
    /// what it wrote. Call it at the end of a burst of appends. Does nothing under `always`.
    ///
    /// It never waits for the writer thread, whose pass may be an `fdatasync`, a segment
    /// roll-over or fault recovery on a slow or hung disk: then it leaves the records to that
    /// pass (woken at once) and the waiters are answered from there. It only waits out another
    /// event loop's write-through, which is one `write` into the page cache.
    public func writeThrough() {
        guard writesThrough else { return }
        while true {
            let attempt = writer.withLockIfAvailable { writer in
                writer?.writeThrough(self) ?? (LogNotice(), false)
            }
            if let (notice, wake) = attempt {
                notice.deliver()
                if wake { wakeup.signal() }
                return
            }
            if writerThreadBusy.load(ordering: .acquiring) {
                wakeup.signal()
                return
            }
        }
    }

    /// The writer thread: passes until the log is closed.
    private func runWriter() {
        while true {
            let deadline = writer.withLock { $0?.wakeDeadline() } ?? .distantFuture
            _ = wakeup.wait(timeout: deadline)
            let notice = writer.withLock { writer in
                writerThreadBusy.store(true, ordering: .releasing)
                defer { writerThreadBusy.store(false, ordering: .releasing) }
                return writer?.step(self)
            } ?? LogNotice(stopped: true)
            notice.deliver()
            if notice.stopped {
                stopped()
                return
            }
        }
    }

    /// The sequence number of the last record appended (at least every append that returned
    /// before this read began).
    public var appendedSequence: UInt64 { appendedMirror.load(ordering: .acquiring) }

    /// The sequence number up to which records are durable under the log's policy.
    public var durableSequence: UInt64 { durableMirror.load(ordering: .acquiring) }

    /// Bytes appended since the log was opened (the snapshot threshold watches this).
    public var bytesAppended: UInt64 { appendedBytes.load(ordering: .relaxed) }

    /// The disk error the log is stuck on, or `nil` while writes succeed.
    public var fault: StorageIOError? {
        guard faulted.load(ordering: .acquiring) else { return nil }
        return state.withLock { $0.fault }
    }

    /// Calls `callback` once every record up to `sequence` is durable, or with the error when
    /// the disk fails first (at once while the log is failing). It is called on the writer
    /// thread, or on the caller's when it can be answered at once.
    public func whenDurable(_ sequence: UInt64, _ callback: @escaping @Sendable (Result<Void, StorageIOError>) -> Void) {
        if let immediate = durability(of: sequence, orWhenKnown: callback) { callback(immediate) }
    }

    /// Blocks the calling thread (never an event loop) until every record up to `sequence` is
    /// durable under the fsync policy, writing pending records first under `interval` and
    /// `never`.
    /// - Throws: the log's fault, or that it is closed, when that comes first.
    public func waitUntilDurable(_ sequence: UInt64) throws(StorageIOError) {
        guard sequence > durableSequence else { return }
        if writesThrough { writeThrough() }
        let answer = Mutex<Result<Void, StorageIOError>?>(nil)
        let done = DispatchSemaphore(value: 0)
        whenDurable(sequence) { result in
            answer.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        if case .failure(let error) = answer.withLock({ $0 }) { throw error }
    }

    /// The answer for `sequence` when it is known now (durable, or the log is failing), without
    /// calling `callback`; otherwise `nil`, and `callback` is called from the writer thread
    /// once it is known. A caller that loops over many waits uses this to handle immediate
    /// answers in its loop rather than in nested callbacks.
    public func durability(
        of sequence: UInt64, orWhenKnown callback: @escaping @Sendable (Result<Void, StorageIOError>) -> Void
    ) -> Result<Void, StorageIOError>? {
        state.withLock { state in
            if sequence <= state.durable { return .success(()) }
            if let fault = state.fault { return .failure(fault) }
            if state.stopped { return .failure(Self.closedError(configuration.directory)) }
            state.waiters.append(Waiter(sequence: sequence, callback: callback))
            return nil
        }
    }

    /// Sets the function called on the writer thread, with the new durable sequence number,
    /// each time records become durable (the alert gate).
    public func onDurable(_ observer: @escaping @Sendable (UInt64) -> Void) {
        state.withLock { $0.onDurable = observer }
    }

    // MARK: Segments and shutdown

    /// Deletes the segments whose every record is at or below `sequence` (a snapshot on disk
    /// covers them). The segment being written is never deleted.
    /// - Returns: the segments deleted.
    @discardableResult
    public func removeSegments(coveredBy sequence: UInt64) throws(StorageIOError) -> [LogSegment] {
        let covered: [LogSegment] = segments.withLock { segments in
            let count = LogSegment.coveredCount(of: segments, by: sequence)
            defer { segments.removeFirst(count) }
            return Array(segments.prefix(count))
        }
        try LogSegment.remove(covered, from: configuration.directory, fileSystem: fileSystem)
        return covered
    }

    /// Writes and syncs what was appended, stops the writer thread and closes the segment.
    /// Waiters still pending, and later ones, get an EBADF "log closed" error.
    public func close() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let alreadyStopping = state.withLock { state -> Bool in
                if state.stopping || !state.opened { return true }
                state.stopping = true
                state.onStopped = { continuation.resume() }
                return false
            }
            if alreadyStopping { continuation.resume() } else { wakeup.signal() }
        }
    }

    /// What waits on a closed log get (EBADF).
    static func closedError(_ directory: String) -> StorageIOError {
        StorageIOError(operation: "write (log closed)", path: directory, errno: 9)
    }

    // MARK: Called by the writer

    /// Takes what was appended since the last call.
    func takePending() -> (bytes: [UInt8], last: UInt64, stopping: Bool) {
        state.withLock { state in
            var bytes: [UInt8] = []
            swap(&bytes, &state.pending)
            state.pending.reserveCapacity(bytes.count)
            return (bytes, state.appended, state.stopping)
        }
    }

    /// Records up to `sequence` are durable: clears a fault and takes the waiters to answer.
    /// Called under the writer lock, so durable and fault change in the writer's order.
    func settleDurable(_ sequence: UInt64) -> LogNotice {
        state.withLock { state in
            state.durable = max(state.durable, sequence)
            // Published before the lock is released: whoever whenDurable answers at once must
            // also see it in durableSequence.
            durableMirror.store(state.durable, ordering: .releasing)
            state.fault = nil
            faulted.store(false, ordering: .releasing)
            var notice = LogNotice(observer: state.onDurable, durable: state.durable)
            state.waiters.removeAll { waiter in
                guard waiter.sequence <= state.durable else { return false }
                notice.durableWaiters.append(waiter)
                return true
            }
            return notice
        }
    }

    /// The disk failed: every waiter is to get the error (added to `notice`), and later ones
    /// get it at once until a write succeeds again. Called under the writer lock.
    func settleFailed(_ error: StorageIOError, into notice: inout LogNotice) {
        state.withLock { state in
            state.fault = error
            faulted.store(true, ordering: .releasing)
            notice.failedWaiters += state.waiters
            notice.failure = error
            state.waiters = []
        }
    }

    /// A segment was started.
    func added(_ segment: LogSegment) {
        segments.withLock { segments in
            if segments.last?.path != segment.path { segments.append(segment) }
        }
    }

    /// The writer has stopped.
    func stopped() {
        let (waiters, onStopped) = state.withLock { state in
            defer { state.waiters = []; state.stopped = true }
            return (state.waiters, state.onStopped)
        }
        for waiter in waiters { waiter.callback(.failure(Self.closedError(configuration.directory))) }
        onStopped?()
    }
}
