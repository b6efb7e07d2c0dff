/// Why the byte stream of a connection can no longer be split into frames.
public enum FrameError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A frame declared a length over the limit; its body is neither read nor allocated.
    case frameTooLarge(length: UInt64, limit: Int)
    /// The length prefix is not a valid varint (longer than 10 bytes, or over 64 bits).
    case malformedLength
    /// A frame began to arrive but was not complete within the deadline (a slowloris peer).
    case incompleteFrameTimeout(Duration)

    public var description: String {
        switch self {
        case .frameTooLarge(let length, let limit):
            return "frame of \(length) bytes exceeds the \(limit)-byte limit"
        case .malformedLength:
            return "frame length is not a valid varint (more than 10 bytes or over 64 bits): framing lost"
        case .incompleteFrameTimeout(let deadline):
            return "a frame began to arrive but was not complete within \(deadline); closing"
        }
    }
}
