import NIOCore
import PiSyncProtocol
import PiSyncStore
import Synchronization

/// One client's FailureAlerts stream: a bounded buffer of alerts not yet handed to its channel.
///
/// Alerts are handed to the channel on its event loop while the channel is writable. A
/// subscriber that stops reading makes its channel unwritable; alerts then wait here, and when
/// more than `capacity` wait, the subscription ends with RESOURCE_EXHAUSTED. The subscription
/// holds one of the bus's places (``AlertBus/reserve(limit:)``) until it ends.
final class AlertSubscription: Sendable {
    /// The subscribe request's id; every alert carries it.
    let id: UInt64
    let capacity: Int
    /// Only alerts of devices whose id starts with this; empty: all.
    let devicePrefix: String
    private let channel: any Channel
    private let bus: AlertBus
    private let state = Mutex(State())

    private struct State {
        var pending = CircularBuffer<EncodedAlert>()
        var drainScheduled = false
        var flushScheduled = false
        var ended = false
        /// Alerts of a resume's replay still at the head of `pending`: they do not count against
        /// `capacity`.
        var replayRemaining = 0
        /// Until the confirmation is written, alerts wait in `pending` and nothing is written.
        var held = true
    }

    init(id: UInt64, capacity: Int, devicePrefix: String = "", channel: any Channel, bus: AlertBus) {
        self.id = id
        self.capacity = capacity
        self.devicePrefix = devicePrefix
        self.channel = channel
        self.bus = bus
    }

    /// The event loop of the subscriber's connection.
    var eventLoop: any EventLoop { channel.eventLoop }

    /// Whether the stream has ended (cancelled, overflowed or shut down).
    var isEnded: Bool { state.withLock { $0.ended } }

    /// Buffers `alert` for delivery; called from any thread.
    ///
    /// On the subscriber's own event loop (its connection shares the loop with the recording
    /// one) with nothing waiting and the channel writable, the alert is written at once: the
    /// loop is busy publishing and could not drain a queue until the whole burst is in. A
    /// burst is flushed once, when the loop's current pass (every read it is handling) is
    /// done, or sooner whenever the write buffer fills; not once per alert.
    /// `drainScheduled: true` says the caller will run ``drain()`` on the event loop (the bus
    /// does, once per loop for all its subscribers): the alert is queued, not handed over.
    /// Whether the subscription wants `alert` (its device filter).
    func wants(_ alert: EncodedAlert) -> Bool {
        devicePrefix.isEmpty || alert.deviceID.utf8.starts(with: devicePrefix.utf8)
    }

    func offer(_ alert: EncodedAlert, drainScheduled callerDrains: Bool = false) {
        guard wants(alert) else { return }
        enum Action { case none, writeNow(flush: Bool), drain, overflow }
        let onLoop = channel.eventLoop.inEventLoop
        let action = state.withLock { state -> Action in
            guard !state.ended else { return .none }
            if onLoop && !state.held && state.pending.isEmpty && channel.isWritable {
                defer { state.flushScheduled = true }
                return .writeNow(flush: !state.flushScheduled)
            }
            guard state.pending.count - state.replayRemaining < capacity else {
                state.ended = true
                state.pending.removeAll()
                return .overflow
            }
            state.pending.append(alert)
            guard !state.held, !state.drainScheduled else { return .none }
            state.drainScheduled = true
            return callerDrains ? .none : .drain
        }
        switch action {
        case .none:
            break
        case .writeNow(let scheduleFlush):
            channel.write(OutboundFrame.alert(subscriptionID: id, alert), promise: nil)
            if scheduleFlush {
                channel.eventLoop.execute { self.flushBurst() }
            }
            if !channel.isWritable {
                // Unflushed bytes count against the write buffer: flush now, so that
                // "unwritable" keeps meaning that the subscriber's socket is backed up.
                channel.flush()
            }
        case .drain:
            channel.eventLoop.execute { self.drain() }
        case .overflow:
            leaveBus()
            let message = "subscriber too slow: more than \(capacity) alerts waiting; subscription ended"
            channel.eventLoop.execute { self.send(.failure(id: self.id, .resourceExhausted, message)) }
        }
    }

    /// Queues a resume's replay ahead of every live alert; the buffer holds it on top of its
    /// capacity. Called before the subscription is registered.
    func preload(_ replay: [EncodedAlert]) {
        state.withLock { state in
            state.pending.append(contentsOf: replay)
            state.replayRemaining = replay.count
        }
    }

    /// Lets alerts reach the channel, once the confirmation has been written. Event loop only.
    func release() {
        state.withLock { $0.held = false }
        drain()
    }

    /// Hands waiting alerts to the channel while it accepts them; runs on the event loop, and
    /// again when the channel becomes writable.
    func drain() {
        var wrote = false
        while channel.isWritable {
            let next = state.withLock { state -> EncodedAlert? in
                guard !state.ended, !state.held, !state.pending.isEmpty else {
                    state.drainScheduled = false
                    return nil
                }
                if state.replayRemaining > 0 { state.replayRemaining -= 1 }
                return state.pending.removeFirst()
            }
            guard let alert = next else { break }
            channel.write(OutboundFrame.alert(subscriptionID: id, alert), promise: nil)
            wrote = true
        }
        if wrote { channel.flush() }
    }

    /// Flushes the alerts written by `offer` since the last burst. Event loop only.
    private func flushBurst() {
        state.withLock { $0.flushScheduled = false }
        channel.flush()
    }

    /// Ends the stream with a final error on its id, unless it has ended already. Event loop only.
    func end(_ code: StatusCode, _ message: String) {
        let wasLive = state.withLock { state in
            defer { state.ended = true; state.pending.removeAll() }
            return !state.ended
        }
        guard wasLive else { return }
        leaveBus()
        send(.failure(id: id, code, message))
    }

    /// Leaves the bus and gives back its place; called once, by whichever path ended the stream.
    private func leaveBus() {
        bus.remove(self)
        bus.unreserve()
    }

    private func send(_ response: Pisync_V1_Response) {
        channel.writeAndFlush(OutboundFrame.response(response), promise: nil)
    }
}
