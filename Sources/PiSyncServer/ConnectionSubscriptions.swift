import Logging
import NIOCore
import PiSyncProtocol
import PiSyncStore

/// The alert subscriptions of one connection, with the caps on opening one. Used on the
/// connection's event loop only.
///
/// A class, not a struct held by the handler: opening one or ending them writes to the channel,
/// which can call back into the handler (a writability change, the channel closing) and so
/// into this object while a mutating call on a stored struct would still hold exclusive access.
final class ConnectionSubscriptions {
    private let bus: AlertBus
    private let configuration: ServerConfiguration
    private var live: [UInt64: AlertSubscription] = [:]

    init(bus: AlertBus, configuration: ServerConfiguration) {
        self.bus = bus
        self.configuration = configuration
    }

    /// Whether any subscription is still streaming (a subscriber is never idle).
    var hasLive: Bool { live.values.contains { !$0.isEnded } }

    /// What opening a subscription came to.
    enum Opening {
        case opened(AlertSubscription)
        /// The answer that refuses it.
        case refused(Pisync_V1_Response)
    }

    /// Opens subscription `id` on `channel`, or says why not: the id is taken, or a cap is
    /// reached (per connection, then across the server). The first one on a connection caps
    /// its socket buffers (see ``boundSocketBuffers(_:logger:)``).
    func open(id: UInt64, devicePrefix: String = "", channel: any Channel, logger: Logger) -> Opening {
        live = live.filter { !$0.value.isEnded }
        if !devicePrefix.isEmpty, let violation = EventValidator.deviceIDViolation(devicePrefix) {
            return .refused(
                .failure(
                    id: id, .invalidArgument, violation.message.replacingOccurrences(of: "device_id", with: "device_id_prefix"),
                    field: "device_id_prefix"))
        }
        guard live[id] == nil else {
            return .refused(.failure(id: id, .invalidArgument, "a subscription with id \(id) is already open", field: "id"))
        }
        let perConnection = configuration.maxSubscriptionsPerConnection
        guard live.count < perConnection else {
            let message = "this connection has its limit of \(perConnection) subscriptions open; cancel one first"
            return .refused(.failure(id: id, .resourceExhausted, message))
        }
        guard bus.reserve(limit: configuration.maxSubscriptions) else {
            let message = "the server has its limit of \(configuration.maxSubscriptions) subscriptions open; retry later"
            return .refused(.failure(id: id, .resourceExhausted, message))
        }
        if live.isEmpty {
            boundSocketBuffers(channel, logger: logger)
        }
        let subscription = AlertSubscription(
            id: id, capacity: configuration.subscriberBufferSize, devicePrefix: devicePrefix, channel: channel, bus: bus)
        live[id] = subscription
        return .opened(subscription)
    }

    /// Removes and returns the live subscription `id`, if there is one.
    func remove(_ id: UInt64) -> AlertSubscription? {
        guard let subscription = live.removeValue(forKey: id), !subscription.isEnded else { return nil }
        return subscription
    }

    /// Hands waiting alerts to the channel (it became writable).
    func drain() {
        for subscription in live.values { subscription.drain() }
    }

    /// Ends every subscription with `code` (a final error frame on each live one).
    func endAll(_ code: StatusCode, _ message: String) {
        for subscription in live.values {
            subscription.end(code, message)
        }
        live = [:]
    }

    /// Caps what the kernel and NIO may buffer for this connection once it streams alerts, so a
    /// subscriber that stops reading shows up in its own alert buffer after kilobytes, not
    /// after the megabytes that send-buffer autotuning would allow.
    private func boundSocketBuffers(_ channel: any Channel, logger: Logger) {
        guard let options = channel.syncOptions else { return }
        let size = max(1024, configuration.subscriberSendBuffer)
        do {
            try options.setOption(.socketOption(.so_sndbuf), value: SocketOptionValue(clamping: size))
            try options.setOption(.writeBufferWaterMark, value: .init(low: size / 2, high: size))
        } catch {
            logger.debug("could not bound the subscriber's send buffers: \(error)")
        }
    }
}
