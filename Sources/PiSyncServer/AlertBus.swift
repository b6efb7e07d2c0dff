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

    /// Hands `alert` to every subscription: at once to those served by the calling thread's
    /// event loop, and with one task per other event loop for the rest, rather than one
    /// cross-thread hand-off per subscriber. Tasks on a loop run in order, so each subscriber
    /// still sees the alerts in sequence order.
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
                elsewhere[ObjectIdentifier(loop), default: (loop, [])].subscriptions.append(subscription)
            }
        }
        for (loop, subscriptions) in elsewhere.values {
            loop.execute {
                for subscription in subscriptions { subscription.offer(encoded) }
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
