/// One fuzz input: a header that picks the server's configuration and how the connection's
/// bytes are cut into reads, then the bytes the peer sends.
///
///     byte 0        options (``Options``)
///     byte 1        k, the schedule's length (taken modulo 17)
///     k bytes       the schedule: one step per read, repeated until the bytes run out
///     the rest      the connection's bytes
///
/// A schedule byte's low 5 bits pick the read's length (``readLengths``); its high 3 bits
/// pick what happens after the read (``Step/Event``). With no schedule the bytes arrive in
/// one read. The fuzzer mutates the header like any other byte, so it explores splits and
/// timing along with content.
struct FuzzInput {
    struct Options: OptionSet {
        let rawValue: UInt8
        /// The server has auth secrets: every call must follow an Authenticate.
        static let auth = Options(rawValue: 1 << 0)
        /// Small limits (frame size, batch, subscriptions, rate), so that inputs reach them.
        static let tightLimits = Options(rawValue: 1 << 1)
    }

    /// Read lengths a schedule byte can pick; 0 means the rest of the bytes.
    static let readLengths = [
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 15, 16, 17,
        20, 31, 32, 33, 63, 64, 65, 100, 127, 128, 129, 255, 256, 511, 1024, 4096,
    ]

    /// What the peer does next.
    struct Step {
        enum Event {
            case none
            /// The event loop's clock moves on (timers fire: frame deadline, idle timeout,
            /// the delayed close after a refused token, the close timeout).
            case advance(milliseconds: Int64)
            /// The peer stops or starts reading: the channel turns unwritable or writable.
            case toggleWritable
        }

        /// The bytes of this read.
        var bytes: ArraySlice<UInt8>
        var event: Event
    }

    let options: Options
    let schedule: [UInt8]
    let stream: ArraySlice<UInt8>

    init(_ bytes: some Collection<UInt8>) {
        let bytes = Array(bytes)
        options = Options(rawValue: bytes.first ?? 0)
        let length = bytes.count > 1 ? Int(bytes[1] % 17) : 0
        schedule = Array(bytes.dropFirst(2).prefix(length))
        stream = bytes.dropFirst(2 + length)
    }

    /// The header of an input with `options` and `schedule`, to put before a stream.
    static func header(_ options: Options, schedule: [UInt8] = []) -> [UInt8] {
        precondition(schedule.count <= 16)
        return [options.rawValue, UInt8(schedule.count)] + schedule
    }

    /// The reads and what happens after each, in order.
    var steps: [Step] {
        guard !schedule.isEmpty else { return stream.isEmpty ? [] : [Step(bytes: stream, event: .none)] }
        var steps: [Step] = []
        var rest = stream
        var index = 0
        while !rest.isEmpty {
            let byte = schedule[index % schedule.count]
            index += 1
            let length = Self.readLengths[Int(byte & 0x1F)]
            let read = length == 0 ? rest : rest.prefix(length)
            rest = rest.dropFirst(read.count)
            steps.append(Step(bytes: read, event: Self.event(byte >> 5)))
        }
        return steps
    }

    private static func event(_ code: UInt8) -> Step.Event {
        switch code {
        case 2: .advance(milliseconds: 301_000)  // past the idle timeout
        case 3: .advance(milliseconds: 200)
        case 4: .advance(milliseconds: 1_100)  // past the delayed close after a refused token
        case 5: .advance(milliseconds: 5_100)  // past the close timeout
        case 6: .advance(milliseconds: 31_000)  // past the frame deadline
        case 7: .toggleWritable
        default: .none
        }
    }
}
