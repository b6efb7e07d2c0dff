import NIOCore
import PiSyncPersistence
import PiSyncProtocol
import PiSyncStore

/// Answers the unary calls (RecordSync, GetHistory, ListFailures, Ping) from the store.
///
/// Everything here is synchronous and lock-based, so it runs on the connection's event loop
/// with no thread hop (see ``ConnectionHandler``).
struct RequestDispatcher: Sendable {
    let store: SyncStore
    /// The write-ahead log, when the server persists.
    let log: WriteAheadLog?
    let maxBatchSize: Int
    let maxFrameSize: Int
    let clock: ServerClock
    /// Whether connections must Authenticate (Ping says so).
    var authRequired = false
    /// The per-device rate limit, when one is in force.
    var deviceLimiter: RateLimiter?
    /// Where requests, events and RecordSync latency are counted.
    var metrics = ServerMetrics.disabled
    /// What Ping reports about readiness.
    var health: ServerHealth?

    /// Records a batch; answers with a hand-encoded acknowledgement when nothing was rejected.
    /// With `rateLimited`, the events count against their devices' rate limit first.
    func recordSync(id: UInt64, _ request: Pisync_V1_RecordSyncRequest, rateLimited: Bool = true) -> OutboundFrame {
        let started = NIODeadline.now()
        defer { metrics.recordSyncDuration.record(nanoseconds: (NIODeadline.now() - started).nanoseconds) }
        return record(id: id, request, rateLimited: rateLimited)
    }

    private func record(id: UInt64, _ request: Pisync_V1_RecordSyncRequest, rateLimited: Bool) -> OutboundFrame {
        if let refusal = refusal(id: id, request) {
            return .response(refusal)
        }
        let (events, positions, mismatched) = resolveDevices(request)
        if rateLimited, let deviceLimiter, let refusal = rateRefusal(id: id, request, events, deviceLimiter) {
            return .response(refusal)
        }
        let outcome = store.record(events, now: clock.nowMillis())
        count(outcome, mismatched: mismatched.count)
        if mismatched.isEmpty && outcome.rejected.isEmpty {
            return .acknowledgement(id: id, accepted: UInt32(outcome.accepted), duplicates: UInt32(outcome.duplicates))
        }
        let rejected = (mismatched + outcome.rejected.map { .init(index: positions?[$0.index] ?? $0.index, violation: $0.violation) })
            .sorted { $0.index < $1.index }
        if rejected.count == request.events.count, let first = rejected.first {
            let message = request.events.count == 1
                ? "event 0: \(first.violation.message)"
                : "all \(request.events.count) events rejected; event \(first.index): \(first.violation.message)"
            return .response(.failure(id: id, .invalidArgument, message, field: first.violation.field))
        }
        return .response(.with {
            $0.id = id
            $0.recordSync = .with {
                $0.accepted = UInt32(outcome.accepted)
                $0.duplicates = UInt32(outcome.duplicates)
                $0.rejected = rejected.map { rejection in
                    .with {
                        $0.index = UInt32(rejection.index)
                        $0.code = StatusCode(rejection.violation.kind).rawValue
                        $0.field = rejection.violation.field
                        $0.message = rejection.violation.message
                    }
                }
            }
        })
    }

    private func count(_ outcome: RecordOutcome, mismatched: Int) {
        if outcome.accepted > 0 { metrics.eventsAccepted.increment(by: outcome.accepted) }
        if outcome.duplicates > 0 { metrics.eventsDuplicate.increment(by: outcome.duplicates) }
        let rejected = outcome.rejected.count + mismatched
        if rejected > 0 { metrics.eventsRejected.increment(by: rejected) }
    }

    /// Why a whole RecordSync is refused before anything is stored, if it is.
    private func refusal(id: UInt64, _ request: Pisync_V1_RecordSyncRequest) -> Pisync_V1_Response? {
        if request.events.isEmpty {
            return .failure(id: id, .invalidArgument, "events is empty: send at least one event", field: "events")
        }
        if request.events.count > maxBatchSize {
            return .failure(
                id: id, .invalidArgument,
                "\(request.events.count) events exceed the limit of \(maxBatchSize) per RecordSync", field: "events")
        }
        if !request.deviceID.isEmpty, let violation = EventValidator.deviceIDViolation(request.deviceID) {
            return .failure(id: id, violation)
        }
        if let fault = log?.fault {
            // Nothing is stored while the disk fails, so memory does not fill with events that
            // cannot be acknowledged; they come back when the device retries.
            return .failure(
                id: id, .unavailable, "the event log cannot be written (\(fault)); nothing was recorded: retry later")
        }
        return nil
    }

    /// Spends each device's tokens for its events, or answers why the whole batch is refused
    /// (nothing is stored then).
    private func rateRefusal(
        id: UInt64, _ request: Pisync_V1_RecordSyncRequest, _ events: [SyncEvent], _ limiter: RateLimiter
    ) -> Pisync_V1_Response? {
        let decision: RateLimiter.Decision
        if !request.deviceID.isEmpty {
            decision = limiter.take(events.count, of: request.deviceID)
        } else {
            var counts: [String: Int] = [:]
            for event in events where !event.deviceID.isEmpty { counts[event.deviceID, default: 0] += 1 }
            decision = limiter.take(counts.map { (key: $0.key, count: $0.value) })
        }
        switch decision {
        case .admitted:
            return nil
        case .limited(let device, let retryAfter):
            return .failure(
                id: id, .resourceExhausted,
                "device '\(device)' is over its rate limit of \(limiter.rate.formatted) events/s (burst \(limiter.burst)); nothing was recorded: retry after \(retryAfter) ms",
                field: "device_id", retryAfterMillis: retryAfter)
        case .overBurst(let device, let burst):
            return .failure(
                id: id, .invalidArgument,
                "the batch holds more events for device '\(device)' than its rate limit's burst of \(burst): send smaller batches",
                field: "events")
        }
    }

    /// Gives each event its device (the request's when it names one) and sets aside events that
    /// contradict the request's device. `positions[i]` is the request index of `events[i]`;
    /// `nil` when nothing was set aside (then it is `i`).
    private func resolveDevices(
        _ request: Pisync_V1_RecordSyncRequest
    ) -> (events: [SyncEvent], positions: [Int]?, mismatched: [RecordOutcome.Rejection]) {
        var events: [SyncEvent] = []
        // Built only once an event is set aside; until then, positions are the indexes.
        var positions: [Int]?
        var mismatched: [RecordOutcome.Rejection] = []
        events.reserveCapacity(request.events.count)
        for (index, event) in request.events.enumerated() {
            var deviceID = event.deviceID
            if !request.deviceID.isEmpty {
                if !deviceID.isEmpty && deviceID != request.deviceID {
                    let message = "event names device '\(deviceID)' but the request is for '\(request.deviceID)'"
                    mismatched.append(.init(index: index, violation: FieldViolation(field: "device_id", message: message)))
                    if positions == nil { positions = Array(0..<index) }
                    continue
                }
                deviceID = request.deviceID
            }
            events.append(
                SyncEvent(
                    deviceID: deviceID, timestamp: event.timestamp, filesSynced: event.totalFilesSynced,
                    errors: event.totalErrors, internetSpeed: event.internetSpeed))
            positions?.append(index)
        }
        return (events, positions, mismatched)
    }

    func getHistory(id: UInt64, _ request: Pisync_V1_GetHistoryRequest) -> Pisync_V1_Response {
        do throws(FieldViolation) {
            if let violation = EventValidator.deviceIDViolation(request.deviceID) { throw violation }
            let page = try PageRequest(page: request.page, limit: request.limit)
            let history = try store.history(of: request.deviceID, page: page)
            return .with {
                $0.id = id
                $0.getHistory = .with {
                    $0.events = history.events.map(Pisync_V1_SyncEvent.init)
                    $0.total = UInt64(history.total)
                    $0.page = UInt32(page.page)
                    $0.limit = UInt32(page.limit)
                    $0.archived = UInt64(history.archived)
                    $0.archivedThrough = history.archivedThrough ?? 0
                }
            }
        } catch {
            return .failure(id: id, error)
        }
    }

    func listFailures(id: UInt64, _ request: Pisync_V1_ListFailuresRequest) -> Pisync_V1_Response {
        do throws(FieldViolation) {
            let page = try PageRequest(page: request.page, limit: request.limit)
            let threshold = request.threshold == 0 ? SyncStore.defaultFailureThreshold : Int(request.threshold)
            let failures = store.failures(above: threshold, page: page)
            return .with {
                $0.id = id
                $0.listFailures = .with {
                    $0.devices = failures.devices.map(Pisync_V1_DeviceFailures.init)
                    $0.total = UInt64(failures.total)
                    $0.page = UInt32(page.page)
                    $0.limit = UInt32(page.limit)
                    $0.threshold = UInt32(threshold)
                }
            }
        } catch {
            return .failure(id: id, error)
        }
    }

    func ping(id: UInt64) -> Pisync_V1_Response {
        .with {
            $0.id = id
            $0.ping = .with {
                $0.version = ServerInfo.version
                $0.uptimeMs = UInt64(max(0, clock.uptimeMillis()))
                $0.maxBatchSize = UInt32(clamping: maxBatchSize)
                $0.maxFrameSize = UInt32(clamping: maxFrameSize)
                $0.authRequired = authRequired
                if let health {
                    let status = health.status
                    $0.health = .with {
                        $0.ready = status.ready
                        $0.reasons = status.reasons
                    }
                }
            }
        }
    }
}

extension Pisync_V1_Response {
    /// A response carrying `violation` as the error of request `id`.
    static func failure(id: UInt64, _ violation: FieldViolation) -> Self {
        .failure(id: id, StatusCode(violation.kind), violation.message, field: violation.field)
    }
}

extension Double {
    /// "100" for whole numbers, "0.5" otherwise.
    fileprivate var formatted: String { rounded() == self && abs(self) < 1e15 ? String(Int64(self)) : String(self) }
}

extension StatusCode {
    init(_ kind: FieldViolation.Kind) {
        switch kind {
        case .invalidArgument: self = .invalidArgument
        case .notFound: self = .notFound
        }
    }
}
