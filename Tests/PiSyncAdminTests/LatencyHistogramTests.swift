import PiSyncServer
import Testing

/// The lock-free RecordSync latency histogram: bucket edges, cumulative counts, and its text.
@Suite("LatencyHistogram")
struct LatencyHistogramTests {
    @Test("observations land in the first bucket whose bound holds them; counts are cumulative")
    func buckets() {
        let histogram = LatencyHistogram(name: "x_seconds", help: "x", bounds: [.microseconds(100), .milliseconds(1)])
        for nanoseconds: Int64 in [-5, 0, 100_000, 100_001, 1_000_000, 2_000_000] {
            histogram.record(nanoseconds: nanoseconds)
        }
        let snapshot = histogram.snapshot
        #expect(snapshot.buckets.map(\.bound) == [0.0001, 0.001])
        #expect(snapshot.buckets.map(\.count) == [3, 5])
        #expect(snapshot.count == 6)
        #expect(abs(snapshot.sum - 0.003200001) < 1e-12)
        let text = histogram.exposition
        #expect(text.contains("# TYPE x_seconds histogram\n"))
        #expect(text.contains("x_seconds_bucket{le=\"0.001\"} 5\n"))
        #expect(text.contains("x_seconds_bucket{le=\"+Inf\"} 6\n"))
        #expect(text.contains("x_seconds_count 6\n"))
    }
}
