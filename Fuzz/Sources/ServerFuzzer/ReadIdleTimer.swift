import NIOCore
import NIOEmbedded

/// The server's read timeout on the event loop's clock: fires `IdleStateHandler`'s `.read`
/// event when nothing was read for `timeout`, and again every `timeout` after, as
/// `IdleStateHandler` does.
///
/// The run replaces the pipeline's `IdleStateHandler` with this one because NIO's handler
/// measures the time since the last read with `NIODeadline.now()`, the wall clock, while it
/// schedules its check on the event loop's clock. On a real event loop the two are one clock;
/// an `EmbeddedEventLoop` moves its clock by minutes in a moment, and once it is more than the
/// timeout past the last read, the check finds the (wall-clock) read recent and reschedules
/// itself at a deadline already passed, forever: the fuzzer's first timeout.
final class ReadIdleTimer {
    private let timeout: TimeAmount
    private var task: Scheduled<Void>?

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    /// Takes the server's `IdleStateHandler` out of `channel`'s pipeline (before it is active).
    func replaceIdleStateHandler(in channel: EmbeddedChannel) throws {
        let operations = channel.pipeline.syncOperations
        try operations.removeHandler(try operations.handler(type: IdleStateHandler.self)).wait()
    }

    /// Starts the timeout again: the channel became active, or a read completed.
    func restart(_ channel: EmbeddedChannel) {
        task?.cancel()
        task = channel.embeddedEventLoop.scheduleTask(in: timeout) {
            self.task = nil
            guard channel.isActive else { return }
            self.restart(channel)
            channel.pipeline.fireUserInboundEventTriggered(IdleStateHandler.IdleStateEvent.read)
        }
    }

    func cancel() {
        task?.cancel()
        task = nil
    }
}
