import NIOCore
import PiSyncPersistence
import PiSyncProtocol

/// One connection's responses that wait for the write-ahead log, in request order.
///
/// A response computed from the store waits until the log is durable up to every record
/// appended when it was computed: a RecordSync's acknowledgement (also when every event was a
/// duplicate: the first copy's record may still be in flight), and a read, which so never shows
/// an event that is not durable. Responses that depend on nothing still wait their turn.
struct ResponseQueue {
    /// What a response depends on.
    enum Wait {
        /// Nothing: it only keeps its place in line.
        case none
        /// The store's state it read.
        case read
        /// The events it acknowledges; if the log fails, it becomes UNAVAILABLE.
        case write
    }

    struct Entry {
        var response: OutboundFrame
        var sequence: UInt64
        var wait: Wait
        var then: (() -> Void)?
    }

    private let log: WriteAheadLog?
    private var entries = CircularBuffer<Entry>()
    private var awaiting = false

    init(log: WriteAheadLog?) {
        self.log = log
    }

    var isEmpty: Bool { entries.isEmpty }

    /// Responses waiting.
    var count: Int { entries.count }

    /// Queues `response`, or returns false when it can be written at once (nothing queued
    /// before it and nothing to wait for).
    mutating func enqueue(_ response: OutboundFrame, waiting: Wait, then: (() -> Void)?) -> Bool {
        guard let log else { return false }
        let sequence = waiting == .none ? 0 : log.appendedSequence
        if entries.isEmpty && sequence <= log.durableSequence { return false }
        entries.append(Entry(response: response, sequence: sequence, wait: waiting, then: then))
        return true
    }

    /// The log sequence number to wait for next, unless a wait is already under way.
    mutating func sequenceToAwait() -> UInt64? {
        guard !awaiting, let head = entries.first else { return nil }
        awaiting = true
        return head.sequence
    }

    /// The wait is over; the next one may start.
    mutating func awaited() {
        awaiting = false
    }

    /// The responses to write now, after the wait for the first one ended: that one (turned
    /// into UNAVAILABLE when the wait failed and it acknowledges writes), then every one whose
    /// records are durable. The first is always released, so a wait never repeats for it.
    mutating func release(failure: (any Error)?) -> [Entry] {
        var ready: [Entry] = []
        guard var head = entries.popFirst() else { return [] }
        if let failure, head.wait == .write {
            head.response = .response(.failure(
                id: head.response.id, .unavailable,
                "the event log could not be written (\(failure)); the events were not acknowledged: retry later"))
        }
        ready.append(head)
        let durable = max(log?.durableSequence ?? .max, failure == nil ? head.sequence : 0)
        while let head = entries.first, head.sequence <= durable {
            ready.append(entries.removeFirst())
        }
        return ready
    }
}
