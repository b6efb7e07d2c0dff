import PiSyncPersistence
import PiSyncStore
import Synchronization

/// Holds each alert back until the failures that raised it are durable in the write-ahead log,
/// then hands it to the bus, in sequence order.
///
/// So no subscriber sees an alert that a server restarted after a crash would not know. The
/// store calls ``publish(_:)`` in sequence order, after journaling the alert's events; the
/// log's writer thread calls ``release(upTo:)`` each time records become durable. Neither
/// hands alerts to the bus while it holds a lock.
final class DurableAlertGate: Sendable {
    private let log: WriteAheadLog
    private let bus: AlertBus
    /// Alerts waiting, with the log sequence number each waits for; numbers never decrease.
    private let waiting = Mutex<[(sequence: UInt64, alert: FailureAlert)]>([])
    /// Alerts released, handed to the bus in order with no lock held.
    private let released = AlertOutbox()

    init(log: WriteAheadLog, bus: AlertBus) {
        self.log = log
        self.bus = bus
    }

    /// Queues `alert` behind every record appended so far.
    func publish(_ alert: FailureAlert) {
        let sequence = log.appendedSequence
        waiting.withLock { waiting in
            waiting.append((sequence, alert))
            release(&waiting, upTo: log.durableSequence)
        }
        released.drain(bus.publish)
    }

    /// Delivers the alerts waiting for records up to `durable`.
    func release(upTo durable: UInt64) {
        // Called after every write: most of the time nothing waits.
        guard waiting.withLock({ release(&$0, upTo: durable) }) else { return }
        released.drain(bus.publish)
    }

    /// Moves the alerts waiting for records up to `durable` to the outbox; doing it under the
    /// lock keeps the bus's order the sequence order.
    /// Returns whether it moved any.
    @discardableResult
    private func release(_ waiting: inout [(sequence: UInt64, alert: FailureAlert)], upTo durable: UInt64) -> Bool {
        let ready = waiting.prefix { $0.sequence <= durable }.count
        guard ready > 0 else { return false }
        released.enqueue(waiting[..<ready].map(\.alert))
        waiting.removeFirst(ready)
        return true
    }
}
