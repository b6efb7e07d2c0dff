import Dispatch
import Metrics

/// The write-ahead log's instruments: records appended and how long each fdatasync takes.
///
/// Made once, from the server's metrics factory (a Prometheus registry per server), and
/// shared by the log and its writer; recording is an atomic add (appends) or one histogram
/// observation on the writer thread (fsyncs), never on an event loop's request path beyond that.
public struct LogMetrics: Sendable {
    /// `pisync_log_appends_total`: records appended to the log (one per stored batch).
    public let appends: Counter
    /// `pisync_log_fsync_duration_seconds`: each fdatasync of a log segment.
    public let fsyncDuration: Timer

    /// Instruments registered with `factory`.
    public init(factory: any MetricsFactory) {
        appends = Counter(label: "pisync_log_appends_total", factory: factory)
        fsyncDuration = Timer(label: "pisync_log_fsync_duration_seconds", factory: factory)
    }

    /// Instruments that record nothing (no admin port).
    public static let disabled = LogMetrics(factory: NOOPMetricsHandler.instance)

    /// Runs `sync` and records how long it took, whether it succeeded or not.
    func timed<T>(_ sync: () throws(StorageIOError) -> T) throws(StorageIOError) -> T {
        let started = DispatchTime.now().uptimeNanoseconds
        defer { fsyncDuration.recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds &- started)) }
        return try sync()
    }
}
