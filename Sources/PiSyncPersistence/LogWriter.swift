import Dispatch

/// The write-ahead log's writer: group commit, segment roll-over, fsync timer and recovery from
/// disk faults.
///
/// Used only under the log's writer lock (the log reads `initialSegments` and `fileSystem`
/// before that), hence `@unchecked Sendable`. The writer thread runs ``step(_:)``; under
/// `interval` and `never` an event loop may run ``writeThrough(_:)`` at the end of its read
/// burst, so that its acknowledgements need no hop to that thread and back.
///
/// After a failed `write` or `fdatasync` the page cache is not trusted (PostgreSQL's
/// "fsyncgate"): every record written since the last sync is written again, from memory, into
/// a new segment, and only then is the old one cut back to its last durable length (see
/// ``recover(_:)``).
final class LogWriter: @unchecked Sendable {
    let configuration: WriteAheadLog.Configuration
    let fileSystem: any StorageFileSystem
    let initialSegments: [LogSegment]
    private var segment: LogSegment
    private var descriptor: Int32
    private var length: Int64
    /// The segment's length up to which data is known durable (synced, or under `never`, written).
    private var durableLength: Int64
    /// Records written since the last successful sync, kept to write again after a fault.
    private var unsynced: [UInt8] = []
    /// The first sequence number in `unsynced`.
    private var unsyncedFirst: UInt64
    /// The last sequence number written to the file.
    private var written: UInt64
    private var fault: StorageIOError?
    private var nextSync: DispatchTime

    init(
        configuration: WriteAheadLog.Configuration, fileSystem: any StorageFileSystem, scan: LogScan,
        nextSequence: UInt64
    ) throws(WriteAheadLogError) {
        self.configuration = configuration
        self.fileSystem = fileSystem
        self.written = nextSequence - 1
        self.unsyncedFirst = nextSequence
        self.nextSync = .now()
        let header = LogSegment.header
        do {
            if let last = scan.segments.last, scan.lastSequence + 1 == nextSequence || last.firstSequence == nextSequence {
                // Continue the last segment, without its torn tail.
                var length = max(scan.lastSegmentLength, 0)
                let descriptor = try fileSystem.openForAppend(last.path)
                try fileSystem.truncate(descriptor, to: length, path: last.path)
                if length < Int64(header.count) {
                    try fileSystem.truncate(descriptor, to: 0, path: last.path)
                    try fileSystem.write(descriptor, header, path: last.path)
                    length = Int64(header.count)
                }
                try fileSystem.sync(descriptor, path: last.path)
                (self.segment, self.descriptor, self.length) = (last, descriptor, length)
                initialSegments = scan.segments
            } else {
                // No log yet, or a snapshot covers all of it: start a segment after the snapshot.
                let segment = LogSegment(directory: configuration.directory, firstSequence: nextSequence)
                let descriptor = try Self.start(segment, configuration: configuration, fileSystem: fileSystem, sync: true)
                (self.segment, self.descriptor, self.length) = (segment, descriptor, Int64(header.count))
                initialSegments = scan.segments + [segment]
            }
        } catch {
            throw .io(error)
        }
        durableLength = length
    }

    /// Whether the writer has closed its segment for good.
    private(set) var finished = false

    /// One pass of the writer thread: writes what was appended, syncs as the policy says,
    /// rolls a full segment, retries after a fault and, once the log is closing, syncs and
    /// closes. Returns whom to tell; call ``LogNotice/deliver()`` with the writer lock released.
    func step(_ log: WriteAheadLog) -> LogNotice {
        guard !finished else { return LogNotice() }
        let (batch, last, stopping) = log.takePending()
        if !batch.isEmpty {
            append(batch, last: last)
        }
        if fault != nil {
            recover(log)
        } else if configuration.fsync == .interval, !unsynced.isEmpty, DispatchTime.now() >= nextSync {
            syncInterval()
        }
        var notice = LogNotice()
        if fault == nil {
            // Under `interval` and `never` a record counts once it is written (a crash of the
            // process alone loses nothing); under `always`, append() synced it.
            if written > 0 { notice = log.settleDurable(written) }
            if length >= configuration.segmentBytes { roll(log) }
        }
        if let fault { log.settleFailed(fault, into: &notice) }
        if stopping && (fault == nil || batch.isEmpty) {
            if fault == nil, configuration.fsync != .never, !unsynced.isEmpty { syncInterval() }
            fileSystem.close(descriptor)
            finished = true
            notice.stopped = true
        }
        return notice
    }

    /// Under `interval` and `never`, on the calling thread: writes what was appended and
    /// settles it as durable (written is durable under these policies). Syncs, roll-over and
    /// recovery stay with the writer thread; returns `wake` when it has work to do.
    func writeThrough(_ log: WriteAheadLog) -> (notice: LogNotice, wake: Bool) {
        guard !finished, fault == nil, configuration.fsync != .always else { return (LogNotice(), false) }
        let (batch, last, stopping) = log.takePending()
        guard !batch.isEmpty else { return (LogNotice(), stopping) }
        let timerWasIdle = unsynced.isEmpty
        append(batch, last: last)
        if let fault {
            var notice = LogNotice()
            log.settleFailed(fault, into: &notice)
            return (notice, true)
        }
        let timerStarted = configuration.fsync == .interval && timerWasIdle
        return (log.settleDurable(written), timerStarted || length >= configuration.segmentBytes || stopping)
    }

    /// When the writer thread must wake up even if nothing is appended.
    func wakeDeadline() -> DispatchTime {
        if fault != nil { return .now() + configuration.retryInterval.dispatchInterval }
        guard configuration.fsync != .always else { return .distantFuture }
        // Appends do not wake the thread under these policies (the event loops write through);
        // this catches, within 5 ms, any append no write-through followed.
        let poll = DispatchTime.now() + .milliseconds(5)
        if configuration.fsync == .interval, !unsynced.isEmpty { return min(nextSync, poll) }
        return poll
    }

    /// Writes a batch of records; under `always`, syncs it.
    private func append(_ batch: [UInt8], last: UInt64) {
        if unsynced.isEmpty { unsyncedFirst = written + 1 }
        unsynced += batch
        let firstOfBatch = written + 1
        written = last
        guard fault == nil else { return }  // kept in `unsynced`; written by recover()
        do {
            try fileSystem.write(descriptor, batch, path: segment.path)
            length += Int64(batch.count)
            switch configuration.fsync {
            case .always:
                try configuration.metrics.timed { () throws(StorageIOError) in try fileSystem.sync(descriptor, path: segment.path) }
                settle()
            case .never:
                settle()
            case .interval:
                if unsyncedFirst == firstOfBatch { nextSync = .now() + configuration.fsyncInterval.dispatchInterval }
            }
        } catch {
            fault = error
        }
    }

    private func syncInterval() {
        do {
            try configuration.metrics.timed { () throws(StorageIOError) in try fileSystem.sync(descriptor, path: segment.path) }
            settle()
        } catch {
            fault = error
        }
    }

    /// Everything written so far is durable.
    private func settle() {
        durableLength = length
        unsynced = []
        unsyncedFirst = written + 1
    }

    /// After a failed write or sync: writes everything not yet durable, from memory, into a
    /// fresh segment made durable first (through a temporary file renamed into place), and
    /// only then cuts the old segment back to its durable length. Records acknowledged after
    /// a write but before a sync (`interval`, `never`) are so never off the disk while the
    /// fault lasts; should the process die between the two steps, recovery reads the old
    /// segment only up to the new one's first record.
    private func recover(_ log: WriteAheadLog) {
        do throws(StorageIOError) {
            if descriptor >= 0 {
                fileSystem.close(descriptor)
                descriptor = -1
            }
            let target = LogSegment(directory: configuration.directory, firstSequence: unsyncedFirst)
            let temporary = target.path + ".tmp"
            let fresh = try fileSystem.openForAppend(temporary)
            do throws(StorageIOError) {
                try fileSystem.truncate(fresh, to: 0, path: temporary)
                try fileSystem.write(fresh, LogSegment.header + unsynced, path: temporary)
                try fileSystem.sync(fresh, path: temporary)
                fileSystem.close(fresh)
            } catch {
                fileSystem.close(fresh)
                throw error
            }
            try fileSystem.rename(temporary, to: target.path)
            try fileSystem.syncDirectory(configuration.directory)
            if target.path != segment.path {
                // The old segment's tail is superseded now; cutting it is tidiness, and a
                // failure here changes nothing recovery relies on.
                if let old = try? fileSystem.openForAppend(segment.path) {
                    try? fileSystem.truncate(old, to: durableLength, path: segment.path)
                    try? fileSystem.sync(old, path: segment.path)
                    fileSystem.close(old)
                }
            }
            segment = target
            descriptor = try fileSystem.openForAppend(segment.path)
            length = Int64(LogSegment.headerSize + unsynced.count)
            settle()
            fault = nil
            log.added(segment)
        } catch {
            fault = error
        }
    }

    /// Closes a full segment and starts the next one.
    private func roll(_ log: WriteAheadLog) {
        do {
            // Synced under every policy, `never` included: a record torn by a power loss in a
            // segment that is not the last would stop the server from starting.
            try fileSystem.sync(descriptor, path: segment.path)
            settle()
            fileSystem.close(descriptor)
            // Should what follows fail, recover() starts the new segment over: nothing of it is
            // durable yet, and the old descriptor is closed (its number may be reused).
            descriptor = -1
            durableLength = 0
            segment = LogSegment(directory: configuration.directory, firstSequence: written + 1)
            descriptor = try Self.start(
                segment, configuration: configuration, fileSystem: fileSystem, sync: configuration.fsync != .never)
            length = Int64(LogSegment.headerSize)
            durableLength = length
            log.added(segment)
        } catch {
            fault = error
        }
    }

    /// Creates `segment` empty but for its header (and, with `sync`, makes it and its directory
    /// entry durable); returns its descriptor, open for appending.
    private static func start(
        _ segment: LogSegment, configuration: WriteAheadLog.Configuration, fileSystem: any StorageFileSystem, sync: Bool
    ) throws(StorageIOError) -> Int32 {
        let descriptor = try fileSystem.openForAppend(segment.path)
        do throws(StorageIOError) {
            try fileSystem.truncate(descriptor, to: 0, path: segment.path)
            try fileSystem.write(descriptor, LogSegment.header, path: segment.path)
            if sync {
                try fileSystem.sync(descriptor, path: segment.path)
                try fileSystem.syncDirectory(configuration.directory)
            }
        } catch {
            fileSystem.close(descriptor)
            throw error
        }
        return descriptor
    }
}

extension Duration {
    var dispatchInterval: DispatchTimeInterval {
        let (seconds, attoseconds) = components
        return .nanoseconds(Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000))
    }
}
