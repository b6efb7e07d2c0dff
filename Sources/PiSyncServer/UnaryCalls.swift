import PiSyncPersistence
import PiSyncProtocol
import PiSyncStore

/// The binary protocol's unary calls (RecordSync, GetHistory, ListFailures) for another front
/// end on the same server, such as the REST gateway of the admin port.
///
/// It answers through the server's own dispatcher, so a call gets the same validation, the
/// same per-device rate limit and the same store, and it answers only when a connection would:
/// once the write-ahead log is durable (under `--fsync`) up to every record appended when the
/// answer was computed. A RecordSync whose record cannot be made durable is answered
/// UNAVAILABLE, as on a connection.
public struct UnaryCalls: Sendable {
    private let dispatcher: RequestDispatcher

    init(dispatcher: RequestDispatcher) {
        self.dispatcher = dispatcher
    }

    /// The server's store (to look up an event already stored, say).
    public var store: SyncStore { dispatcher.store }

    /// Records `request` as a RecordSync from a rate-limited client (a device), and answers
    /// once what it acknowledges is durable. The response's `id` is 0.
    public func recordSync(_ request: Pisync_V1_RecordSyncRequest) async -> Pisync_V1_Response {
        let answer = dispatcher.recordSync(id: 0, request, rateLimited: true).asResponse
        guard case .recordSync = answer.result else { return counted(.recordSync, answer) }
        if case .failure(let error) = await durability() {
            return counted(.recordSync, .failure(
                id: 0, .unavailable,
                "the event log could not be written (\(error)); the events were not acknowledged: retry later"))
        }
        return counted(.recordSync, answer)
    }

    /// One page of a device's history, answered once every event it could show is durable.
    public func getHistory(_ request: Pisync_V1_GetHistoryRequest) async -> Pisync_V1_Response {
        let answer = dispatcher.getHistory(id: 0, request)
        _ = await durability()
        return counted(.getHistory, answer)
    }

    /// One page of the devices over a failure threshold, answered once every event it counts
    /// is durable.
    public func listFailures(_ request: Pisync_V1_ListFailuresRequest) async -> Pisync_V1_Response {
        let answer = dispatcher.listFailures(id: 0, request)
        _ = await durability()
        return counted(.listFailures, answer)
    }

    /// Counts `answer` in `pisync_requests_total` under `call`, as a connection counts its
    /// requests, and returns it.
    private func counted(_ call: RequestCall, _ answer: Pisync_V1_Response) -> Pisync_V1_Response {
        dispatcher.metrics.countRequest(call, answer)
        return answer
    }

    /// Waits until the log is durable up to what was appended when this is called (a
    /// connection's ``ResponseQueue`` wait, for one answer): under `interval` and `never` the
    /// records are written here first.
    private func durability() async -> Result<Void, StorageIOError> {
        guard let log = dispatcher.log else { return .success(()) }
        let sequence = log.appendedSequence
        guard sequence > log.durableSequence else { return .success(()) }
        log.writeThrough()
        return await withCheckedContinuation { continuation in
            log.whenDurable(sequence) { continuation.resume(returning: $0) }
        }
    }
}

extension PiSyncServer {
    /// The unary calls of this server's binary protocol, for another front end: same
    /// dispatcher, rate limiter, store and durability rules as its connections.
    public var unaryCalls: UnaryCalls { UnaryCalls(dispatcher: dispatcher) }
}
