import PiSyncStore
import Synchronization

/// Fans failure alerts out to every live subscription.
///
/// `publish` is called by the store in sequence order; it only appends to each subscriber's
/// bounded buffer, so a slow subscriber never slows ingestion.
public final class AlertBus: Sendable {
    private let subscriptions = Mutex<[ObjectIdentifier: AlertSubscription]>([:])

    /// Creates a bus with no subscribers.
    public init() {}

    /// Hands `alert` to every subscription.
    public func publish(_ alert: FailureAlert) {
        let current = subscriptions.withLock { Array($0.values) }
        for subscription in current {
            subscription.offer(alert)
        }
    }

    /// Live subscriptions, across all connections.
    public var subscriberCount: Int { subscriptions.withLock { $0.count } }

    func add(_ subscription: AlertSubscription) {
        subscriptions.withLock { $0[ObjectIdentifier(subscription)] = subscription }
    }

    func remove(_ subscription: AlertSubscription) {
        _ = subscriptions.withLock { $0.removeValue(forKey: ObjectIdentifier(subscription)) }
    }
}
