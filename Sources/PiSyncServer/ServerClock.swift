import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The server's wall clock (for timestamp validation) and uptime.
public struct ServerClock: Sendable {
    private let now: @Sendable () -> Int64
    private let startedAt: NIODeadline

    /// A clock reading the system time; `now` may be replaced in tests.
    public init(now: @escaping @Sendable () -> Int64 = ServerClock.systemMillis) {
        self.now = now
        self.startedAt = .now()
    }

    /// Unix epoch milliseconds.
    public func nowMillis() -> Int64 { now() }

    /// Milliseconds since the clock was created.
    public func uptimeMillis() -> Int64 { (NIODeadline.now() - startedAt).nanoseconds / 1_000_000 }

    /// The system's Unix time in milliseconds.
    @Sendable public static func systemMillis() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
    }
}
