import NIOCore
import PiSyncStore
import Synchronization

/// Fans failure alerts out to every live subscription, and counts subscriptions against the
/// server-wide cap.
///
/// `publish` is called in sequence order with no store lock held. It serializes each alert
/// once and only appends it to each subscriber's bounded buffer (or writes it, on the
/// subscriber's own event loop), so a slow subscriber never slows ingestion.
public final class AlertBus: Sendable {
    private struct State {
        var subscriptions: [ObjectIdentifier: AlertSubscription] = [:]
        /// The most recent alerts, oldest first, for subscribers that resume.
        var recent = CircularBuffer<EncodedAlert>()
        var lastSequence: UInt64 = 0

        /// Adds `alert` to ``recent`` as the newest, dropping the oldest beyond `capacity`.
        mutating func keep(_ alert: EncodedAlert, capacity: Int) {
            guard capacity > 0 else { return }
            if recent.count == capacity { recent.removeFirst() }
            recent.append(alert)
        }
    }

    private let state = Mutex(State())
    private let reserved = Atomic<Int>(0)
    /// Alerts kept for subscribers that resume (``ServerConfiguration/alertHistory``).
    let historyCapacity: Int
    /// Where alerts raised and delivered are counted.
    private let metrics: ServerMetrics

    /// Creates a bus with no subscribers that keeps the last `history` alerts for resumes and
    /// counts what it publishes and delivers in `metrics`.
    public init(history: Int = ServerConfiguration().alertHistory, metrics: ServerMetrics = .disabled) {
        self.historyCapacity = max(0, history)
        self.metrics = metrics
    }

    /// Hands `alert` to every subscription: written at once to those served by the calling
    /// thread's event loop; queued, right here, in the buffer of every other one, whose loop
    /// then gets one task that drains all of them (rather than one cross-thread hand-off per
    /// subscriber). Queuing before returning keeps sequence order: an alert published later
    /// on the subscriber's own loop finds this one waiting and goes behind it.
    public func publish(_ alert: FailureAlert) {
        let encoded = EncodedAlert(alert)
        (alert.recovery == nil ? metrics.alertsRaised : metrics.recoveriesRaised).increment()
        // Kept and handed out under one lock with ``add(_:resumingAfter:)``: a subscriber that
        // resumes gets each alert once, from the replay or live.
        let current = state.withLock { state in
            state.lastSequence = max(state.lastSequence, alert.sequence)
            state.keep(encoded, capacity: historyCapacity)
            return Array(state.subscriptions.values)
        }
        guard !current.isEmpty else { return }
        var elsewhere: [ObjectIdentifier: (loop: any EventLoop, subscriptions: [AlertSubscription])] = [:]
        var delivered = 0
        for subscription in current {
            let loop = subscription.eventLoop
            if !subscription.wants(encoded) { continue }
            delivered += 1
            if loop.inEventLoop {
                subscription.offer(encoded)
            } else {
                subscription.offer(encoded, drainScheduled: true)
                elsewhere[ObjectIdentifier(loop), default: (loop, [])].subscriptions.append(subscription)
            }
        }
        if delivered > 0 { metrics.alertsDelivered.increment(by: delivered) }
        for (loop, subscriptions) in elsewhere.values {
            loop.execute {
                for subscription in subscriptions { subscription.drain() }
            }
        }
    }

    /// Live subscriptions, across all connections.
    public var subscriberCount: Int { state.withLock { $0.subscriptions.count } }

    /// Takes one of `limit` places for a new subscription; false when all are taken.
    func reserve(limit: Int) -> Bool {
        var current = reserved.load(ordering: .relaxed)
        while current < limit {
            let (exchanged, original) = reserved.compareExchange(
                expected: current, desired: current + 1, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
        return false
    }

    /// Gives back a place taken by ``reserve(limit:)``.
    func unreserve() {
        reserved.subtract(1, ordering: .relaxed)
    }

    /// Makes `subscription` live; with `sequence`, first queues every held alert after it, under
    /// the lock `publish` holds, so that nothing falls between the replay and the live stream
    /// and nothing comes twice. Call on the subscription's event loop.
    /// Where a subscription starts: the last alert's sequence number, and on a resume how many
    /// alerts after the client's are no longer held.
    struct ResumePoint: Equatable {
        var lastSequence: UInt64
        var lost: UInt64
    }

    /// Starts the bus where a recovered store left off: the alerts it kept (oldest first; the
    /// newest `history` of them are held for resumes) and the last sequence number, so that a
    /// subscriber resuming after a restart gets what it missed, or learns how much was lost.
    public func seed(history alerts: [FailureAlert] = [], lastSequence: UInt64) {
        let kept = alerts.suffix(historyCapacity).map(EncodedAlert.init)
        state.withLock { state in
            for alert in kept where alert.sequence > (state.recent.last?.sequence ?? 0) {
                state.keep(alert, capacity: historyCapacity)
            }
            state.lastSequence = max(state.lastSequence, lastSequence, kept.last?.sequence ?? 0)
        }
    }

    /// Registers `subscription`, held (nothing reaches its channel until it is released, after
    /// its confirmation); with `sequence`, first queues every held alert after it. The replay,
    /// the resume point and the registration come under the lock `publish` holds, so nothing
    /// falls between the replay and the live stream, nothing comes twice, and the confirmation's
    /// numbers are those of this replay.
    func add(_ subscription: AlertSubscription, resumingAfter sequence: UInt64? = nil) -> ResumePoint {
        state.withLock { state in
            var point = ResumePoint(lastSequence: state.lastSequence, lost: 0)
            if let sequence {
                let oldestHeld = state.recent.first?.sequence ?? (state.lastSequence &+ 1)
                // Alerts numbered after `sequence` and before the oldest held; no overflow for
                // any `sequence` a client may send (UInt64.max included).
                point.lost = sequence < oldestHeld &- 1 ? oldestHeld - 1 - sequence : 0
                let replay: [EncodedAlert] = state.recent.filter { $0.sequence > sequence && subscription.wants($0) }
                if !replay.isEmpty { metrics.alertsDelivered.increment(by: replay.count) }
                subscription.preload(replay)
            }
            state.subscriptions[ObjectIdentifier(subscription)] = subscription
            return point
        }
    }

    func remove(_ subscription: AlertSubscription) {
        _ = state.withLock { $0.subscriptions.removeValue(forKey: ObjectIdentifier(subscription)) }
    }
}
