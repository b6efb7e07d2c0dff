import NIOCore

/// Closes the door on a peer that starts a frame and never finishes it (slowloris): once a
/// frame has begun to arrive, all of it must arrive within `deadline`, or the handler raises
/// ``FrameError/incompleteFrameTimeout(_:)``.
///
/// It sits before the frame decoder and follows the frame boundaries in the byte stream (the
/// varint prefixes, then skips the bodies), so it knows when a read ends inside a frame. The
/// clock runs only while the channel is reading: a connection that the server itself stopped
/// reading (back-pressure) is not the peer's stall.
public final class FrameDeadlineHandler: ChannelDuplexHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer
    public typealias OutboundIn = Never

    private enum Position {
        /// Between frames.
        case boundary
        /// Inside a length prefix: the bits so far.
        case prefix(value: UInt64, shift: UInt64)
        /// Inside a body: the bytes still to come.
        case body(remaining: UInt64)
        /// The prefix was malformed; the decoder reports that, and nothing is tracked.
        case lost
    }

    private let deadline: Duration
    private var position = Position.boundary
    private var timer: Scheduled<Void>?
    /// Whether the channel has a read outstanding (the server wants bytes).
    private var reading = true

    /// A handler that allows each frame `deadline` to arrive whole.
    public init(deadline: Duration) {
        self.deadline = deadline
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        let completed = advance(over: buffer.readableBytesView)
        if completed {
            cancelTimer()  // the frame in progress, if any, began in this read
        }
        if case .boundary = position {
            cancelTimer()
        } else if case .lost = position {
            cancelTimer()
        } else if timer == nil {
            startTimer(context)
        }
        context.fireChannelRead(data)
    }

    public func read(context: ChannelHandlerContext) {
        reading = true
        context.read()
    }

    public func channelReadComplete(context: ChannelHandlerContext) {
        reading = false  // until the channel asks for the next read (not while input is paused)
        context.fireChannelReadComplete()
    }

    public func channelInactive(context: ChannelHandlerContext) {
        cancelTimer()
        context.fireChannelInactive()
    }

    /// Moves through `bytes`; returns whether at least one frame ended in them.
    private func advance(over bytes: ByteBufferView) -> Bool {
        var completed = false
        var index = bytes.startIndex
        while index < bytes.endIndex {
            switch position {
            case .lost:
                return completed
            case .boundary:
                position = .prefix(value: 0, shift: 0)
            case .prefix(let value, let shift):
                let byte = bytes[index]
                index += 1
                let next = value | UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 {
                    position = next == 0 ? .boundary : .body(remaining: next)
                    if next == 0 { completed = true }
                } else if shift >= 63 {
                    position = .lost
                } else {
                    position = .prefix(value: next, shift: shift + 7)
                }
            case .body(let remaining):
                let available = UInt64(bytes.endIndex - index)
                if available >= remaining {
                    index += Int(remaining)
                    position = .boundary
                    completed = true
                } else {
                    index = bytes.endIndex
                    position = .body(remaining: remaining - available)
                }
            }
        }
        return completed
    }

    private func startTimer(_ context: ChannelHandlerContext) {
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: TimeAmount(deadline)) {
            let (handler, context) = bound.value
            handler.timer = nil
            if handler.reading {
                context.fireErrorCaught(FrameError.incompleteFrameTimeout(handler.deadline))
            } else {
                handler.startTimer(context)  // the server is not reading: not the peer's stall
            }
        }
    }

    private func cancelTimer() {
        timer?.cancel()
        timer = nil
    }
}
