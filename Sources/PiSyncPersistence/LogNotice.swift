/// Whom the write-ahead log must tell after a writer pass: waiters whose records became
/// durable, waiters failed by a disk error, the durable-sequence observer, and whether the
/// writer stopped.
///
/// The state changes happen under the writer lock, in order; the calls happen after it is
/// released, so a callback may append, wait or write through again.
struct LogNotice {
    var durableWaiters: [WriteAheadLog.Waiter] = []
    var observer: (@Sendable (UInt64) -> Void)?
    var durable: UInt64 = 0
    var failedWaiters: [WriteAheadLog.Waiter] = []
    var failure: StorageIOError?
    var stopped = false

    /// Calls the durable waiters and the observer, then the failed waiters with the error.
    func deliver() {
        for waiter in durableWaiters { waiter.callback(.success(())) }
        if let observer, durable > 0 { observer(durable) }
        if let failure {
            for waiter in failedWaiters { waiter.callback(.failure(failure)) }
        }
    }
}
