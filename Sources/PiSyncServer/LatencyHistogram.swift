import Synchronization

/// A latency histogram for the request hot path: recording is two relaxed atomic adds (the
/// bucket's count and the sum), with no lock and no allocation.
///
/// swift-prometheus's histogram takes a lock per observation, which the RecordSync path does
/// not take (shared/STYLE.md, "The hot path"), so this one is kept here and rendered in the
/// Prometheus text format by the admin port beside the registry's metrics. Counts are per
/// bucket (not cumulative) and each bucket is its own object, so that event loops recording
/// different latencies do not write the same cache line; a scrape adds them up. A scrape
/// reads the buckets one by one while recording goes on: each series is monotonic, and the
/// count is the buckets' sum, so `_count` always equals the `+Inf` bucket.
public final class LatencyHistogram: Sendable {
    private final class Slot: Sendable {
        let value = Atomic<UInt64>(0)
    }

    /// What a scrape reads: cumulative counts per upper bound (seconds), the sum and the count.
    public struct Snapshot: Sendable, Equatable {
        /// `(upper bound in seconds, observations at or below it)`, in increasing bound order,
        /// without `+Inf` (that is ``count``).
        public var buckets: [(bound: Double, count: UInt64)]
        /// Sum of the observations, in seconds.
        public var sum: Double
        /// Observations in all.
        public var count: UInt64

        public static func == (lhs: Snapshot, rhs: Snapshot) -> Bool {
            lhs.buckets.elementsEqual(rhs.buckets) { $0 == $1 } && lhs.sum == rhs.sum && lhs.count == rhs.count
        }
    }

    /// The metric's name in the exposition.
    public let name: String
    /// What it measures (`# HELP`).
    public let help: String
    private let bounds: [Int64]
    /// One slot per bound, then one for "above every bound".
    private let slots: [Slot]
    private let sumNanoseconds = Atomic<UInt64>(0)

    /// A histogram with buckets at `bounds` (increasing).
    public init(name: String, help: String, bounds: [Duration]) {
        self.name = name
        self.help = help
        self.bounds = bounds.map { $0.components.seconds * 1_000_000_000 + $0.components.attoseconds / 1_000_000_000 }
        self.slots = (0...bounds.count).map { _ in Slot() }
    }

    /// Records one observation of `nanoseconds` (negative counts as 0).
    public func record(nanoseconds: Int64) {
        var index = 0
        while index < bounds.count && nanoseconds > bounds[index] { index += 1 }
        slots[index].value.add(1, ordering: .relaxed)
        sumNanoseconds.add(UInt64(max(0, nanoseconds)), ordering: .relaxed)
    }

    /// The counts now.
    public var snapshot: Snapshot {
        var cumulative: UInt64 = 0
        var buckets: [(bound: Double, count: UInt64)] = []
        for (index, bound) in bounds.enumerated() {
            cumulative += slots[index].value.load(ordering: .relaxed)
            buckets.append((Double(bound) / 1e9, cumulative))
        }
        cumulative += slots[bounds.count].value.load(ordering: .relaxed)
        return Snapshot(buckets: buckets, sum: Double(sumNanoseconds.load(ordering: .relaxed)) / 1e9, count: cumulative)
    }

    /// The histogram in the Prometheus text format (0.0.4).
    public var exposition: String {
        let snapshot = snapshot
        var text = "# HELP \(name) \(help)\n# TYPE \(name) histogram\n"
        for bucket in snapshot.buckets {
            text += "\(name)_bucket{le=\"\(bucket.bound)\"} \(bucket.count)\n"
        }
        text += "\(name)_bucket{le=\"+Inf\"} \(snapshot.count)\n\(name)_sum \(snapshot.sum)\n\(name)_count \(snapshot.count)\n"
        return text
    }
}
