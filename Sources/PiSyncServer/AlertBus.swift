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
    private let subscriptions = Mutex<[ObjectIdentifier: AlertSubscription]>([:])
    private let reserved = Atomic<Int>(0)

    /// Creates a bus with no subscribers.
    public init() {}

    /// Hands `alert` to every subscription: written at once to those served by the calling
    /// thread's event loop; queued, right here, in the buffer of every other one, whose loop
    /// then gets one task that drains all of them (rather than one cross-thread hand-off per
    /// subscriber). Queuing before returning keeps sequence order: an alert published later
    /// on the subscriber's own loop finds this one waiting and goes behind it.
    public func publish(_ alert: FailureAlert) {
        let current = subscriptions.withLock { Array($0.values) }
        guard !current.isEmpty else { return }
        let encoded = EncodedAlert(alert)
        var elsewhere: [ObjectIdentifier: (loop: any EventLoop, subscriptions: [AlertSubscription])] = [:]
        for subscription in current {
            let loop = subscription.eventLoop
            if loop.inEventLoop {
                subscription.offer(encoded)
            } else {
                subscription.offer(encoded, drainScheduled: true)
                elsewhere[ObjectIdentifier(loop), default: (loop, [])].subscriptions.append(subscription)
            }
        }
        for (loop, subscriptions) in elsewhere.values {
            loop.execute {
                for subscription in subscriptions { subscription.drain() }
            }
        }
    }

    /// Live subscriptions, across all connections.
    public var subscriberCount: Int { subscriptions.withLock { $0.count } }

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

    func add(_ subscription: AlertSubscription) {
        subscriptions.withLock { $0[ObjectIdentifier(subscription)] = subscription }
    }

    func remove(_ subscription: AlertSubscription) {
        _ = subscriptions.withLock { $0.removeValue(forKey: ObjectIdentifier(subscription)) }
    }
}
