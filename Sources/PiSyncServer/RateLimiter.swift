import NIOCore
import Synchronization

/// Token buckets by key (a device id, a peer address): each key may spend `burst` tokens at
/// once and regains `rate` per second. Shared by every connection of a server.
///
/// A key whose bucket is full is as good as absent, so when more than ``maxKeys`` keys are
/// held the full ones are forgotten; if more than half remain (a flood of distinct keys), every
/// bucket is forgotten, which can only let through more than the limit, never less.
public final class RateLimiter: Sendable {
    /// What a take decided.
    public enum Decision: Equatable, Sendable {
        /// The tokens were spent.
        case admitted
        /// Not enough tokens under `key`: nothing was spent; enough will be there in
        /// `retryAfterMillis`.
        case limited(key: String, retryAfterMillis: UInt32)
        /// More tokens were asked of `key` at once than its burst holds: this can never pass.
        case overBurst(key: String, burst: Int)
    }

    /// The most keys held before full buckets are forgotten.
    public static let maxKeys = 100_000

    /// Tokens regained per second.
    public let rate: Double
    /// Tokens a full bucket holds.
    public let burst: Int
    private let buckets = Mutex<[String: Bucket]>([:])

    private struct Bucket {
        var tokens: Double
        var updated: UInt64
    }

    /// Buckets of `burst` tokens refilled at `rate` per second; both must be positive.
    public init(rate: Double, burst: Int) {
        precondition(rate > 0 && burst > 0, "a rate limiter needs a positive rate and burst")
        self.rate = rate
        self.burst = burst
    }

    /// Spends `count` tokens of `key`, or nothing.
    public func take(_ count: Int, of key: String, now: UInt64 = RateLimiter.now()) -> Decision {
        take([(key, count)], now: now)
    }

    /// Spends `count` tokens of each key, or nothing at all when any key lacks them (a batch is
    /// stored whole or not at all). Keys must be distinct.
    public func take(_ demands: [(key: String, count: Int)], now: UInt64 = RateLimiter.now()) -> Decision {
        if let over = demands.first(where: { $0.count > burst }) {
            return .overBurst(key: over.key, burst: burst)
        }
        return buckets.withLock { buckets in
            var refilled: [Bucket] = []
            refilled.reserveCapacity(demands.count)
            var longestWait: (key: String, seconds: Double)?
            for (key, count) in demands {
                let bucket = refill(buckets[key], now: now)
                refilled.append(bucket)
                let missing = Double(count) - bucket.tokens
                if missing > 0, missing / rate > longestWait?.seconds ?? 0 {
                    longestWait = (key, missing / rate)
                }
            }
            if let (key, seconds) = longestWait {
                return .limited(key: key, retryAfterMillis: Self.millis(seconds))
            }
            if buckets.count + demands.count > Self.maxKeys { forgetFull(&buckets, now: now) }
            for (index, demand) in demands.enumerated() {
                var bucket = refilled[index]
                bucket.tokens -= Double(demand.count)
                buckets[demand.key] = bucket
            }
            return .admitted
        }
    }

    /// Whether `count` tokens of `key` could be spent now, spending nothing.
    public func check(_ count: Int, of key: String, now: UInt64 = RateLimiter.now()) -> Decision {
        guard count <= burst else { return .overBurst(key: key, burst: burst) }
        let tokens = buckets.withLock { refill($0[key], now: now).tokens }
        let missing = Double(count) - tokens
        guard missing > 0 else { return .admitted }
        return .limited(key: key, retryAfterMillis: Self.millis(missing / rate))
    }

    private static func millis(_ seconds: Double) -> UInt32 {
        UInt32(clamping: Int(max(1, min((seconds * 1000).rounded(.up), 86_400_000))))
    }

    /// Keys held right now (tests).
    var keyCount: Int { buckets.withLock { $0.count } }

    private func refill(_ bucket: Bucket?, now: UInt64) -> Bucket {
        guard let bucket else { return Bucket(tokens: Double(burst), updated: now) }
        let elapsed = Double(now &- bucket.updated) / 1e9
        guard now > bucket.updated else { return bucket }
        return Bucket(tokens: min(Double(burst), bucket.tokens + elapsed * rate), updated: now)
    }

    private func forgetFull(_ buckets: inout [String: Bucket], now: UInt64) {
        buckets = buckets.filter { refill($0.value, now: now).tokens < Double(burst) }
        // Still crowded: forget all, rather than filter again on every next take.
        if buckets.count > Self.maxKeys / 2 { buckets.removeAll() }
    }

    /// The monotonic clock buckets are kept on, in nanoseconds.
    public static func now() -> UInt64 { NIODeadline.now().uptimeNanoseconds }
}
