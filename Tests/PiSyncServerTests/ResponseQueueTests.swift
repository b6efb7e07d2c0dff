import PiSyncPersistence
import PiSyncProtocol
@testable import PiSyncServer
import PiSyncStore
import Testing

/// The per-connection queue of responses waiting for the write-ahead log.
@Suite("Response queue")
struct ResponseQueueTests {
    /// A log with one record appended and none durable (never opened: no writer runs).
    static func logWithPendingRecord() -> WriteAheadLog {
        let log = WriteAheadLog(configuration: .init(directory: "/nonexistent"))
        log.append([SyncEvent(deviceID: "pi", timestamp: 1, filesSynced: 1, errors: 0, internetSpeed: 1)], alerts: [])
        return log
    }

    // Regression: the log answered a wait as durable before its durableSequence showed it, the
    // release then found nothing durable, and the connection waited for the same record again
    // and again on the same stack until the server died of a stack overflow (under load, about
    // every other 4-second run of the load kit).
    @Test("a finished wait always releases the response it waited for")
    func successfulWaitReleasesHead() {
        let log = Self.logWithPendingRecord()
        var queue = ResponseQueue(log: log)
        let queued1 = queue.enqueue(.response(.with { $0.id = 1 }), waiting: .write, then: nil)
        #expect(queued1)
        let queued2 = queue.enqueue(.response(.with { $0.id = 2 }), waiting: .none, then: nil)
        #expect(queued2)
        let awaited = queue.sequenceToAwait()
        #expect(awaited == 1)
        let released = queue.release(failure: nil)
        #expect(released.map(\.response.id) == [1, 2])
        #expect(queue.isEmpty)
    }

    @Test("a failed wait turns an acknowledgement into UNAVAILABLE and a read into its answer")
    func failedWait() {
        let log = Self.logWithPendingRecord()
        var queue = ResponseQueue(log: log)
        let queued3 = queue.enqueue(.response(.with { $0.id = 1; $0.recordSync = .init() }), waiting: .write, then: nil)
        #expect(queued3)
        let queued4 = queue.enqueue(.response(.with { $0.id = 2; $0.getHistory = .init() }), waiting: .read, then: nil)
        #expect(queued4)
        let error = StorageIOError(operation: "write", path: "wal", errno: 28)
        _ = queue.sequenceToAwait()
        let first = queue.release(failure: error)
        #expect(first.map(\.response.id) == [1])
        guard case .error(let failure) = first.first?.response.asResponse.result else {
            Issue.record("expected an error, got \(String(describing: first.first?.response))")
            return
        }
        #expect(failure.code == StatusCode.unavailable.rawValue)
        queue.awaited()
        _ = queue.sequenceToAwait()
        let second = queue.release(failure: error)
        guard case .getHistory = second.first?.response.asResponse.result else {
            Issue.record("a read must be answered as computed, got \(String(describing: second.first?.response))")
            return
        }
    }

    @Test("without a log nothing waits")
    func noLog() {
        var queue = ResponseQueue(log: nil)
        let queued5 = queue.enqueue(.response(.with { $0.id = 1 }), waiting: .write, then: nil)
        #expect(!queued5)
    }
}
