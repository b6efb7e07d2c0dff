import Synchronization

/// Hands alerts to a consumer in the order they were queued, outside the locks they were queued
/// under.
///
/// Producers ``enqueue(_:)`` while they hold the lock that orders them (the store's alert
/// sequence lock), then, once every lock is released, call ``drain(_:)``. One caller at a time
/// delivers: a caller that finds another one delivering leaves its items to it and returns at
/// once, so order holds without anyone delivering under a lock, and a slow consumer costs the
/// other producers no more than an append.
public final class AlertOutbox: Sendable {
    public typealias Item = FailureAlert

    private struct State {
        var queue: [Item] = []
        var delivering = false
    }

    private let state = Mutex(State())

    /// Creates an empty outbox.
    public init() {}

    /// Queues `items` behind everything queued before.
    public func enqueue(_ items: some Sequence<Item>) {
        state.withLock { $0.queue.append(contentsOf: items) }
    }

    /// Delivers everything queued, in order, unless another caller is delivering already (it
    /// then delivers these too before it returns). Call it with no lock held.
    public func drain(_ deliver: (Item) -> Void) {
        while true {
            let batch = state.withLock { state -> [Item]? in
                guard !state.delivering, !state.queue.isEmpty else { return nil }
                state.delivering = true
                defer { state.queue = [] }
                return state.queue
            }
            guard let batch else { return }
            batch.forEach(deliver)
            let more = state.withLock { state -> Bool in
                state.delivering = false
                return !state.queue.isEmpty
            }
            guard more else { return }
        }
    }
}
