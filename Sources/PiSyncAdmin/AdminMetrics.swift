import Metrics
import PiSyncServer
import Prometheus

/// The metrics of one server: its own Prometheus registry (so that several servers in one
/// process never share numbers; nothing goes through `MetricsSystem.bootstrap`), the
/// instruments the server records into, and the gauges read from the server when scraped.
public final class AdminMetrics: Sendable {
    /// The registry `/metrics` renders.
    public let registry: PrometheusCollectorRegistry
    /// The instruments to hand to ``ApplicationLauncher`` (requests, events, alerts, latencies).
    public let server: ServerMetrics
    private let connections: Prometheus.Gauge
    private let subscribers: Prometheus.Gauge
    private let devices: Prometheus.Gauge
    private let events: Prometheus.Gauge
    private let ready: Prometheus.Gauge
    private let logDegraded: Prometheus.Gauge

    /// A new registry with PiSync's instruments in it.
    public init() {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // Sub-millisecond buckets: a page-cache fsync is well under a millisecond, a slow
        // disk's tens of milliseconds and more.
        let fast: [Duration] = [
            .microseconds(25), .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500),
            .milliseconds(1), .milliseconds(2.5), .milliseconds(5), .milliseconds(10), .milliseconds(25),
            .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5),
        ]
        factory.durationHistogramBuckets = [
            "pisync_log_fsync_duration_seconds": fast,
            "pisync_snapshot_duration_seconds": [
                .milliseconds(10), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
                .seconds(1), .seconds(2.5), .seconds(5), .seconds(10), .seconds(30), .seconds(60),
            ],
        ]
        self.registry = registry
        self.server = ServerMetrics(factory: factory)
        func gauge(_ name: String, _ help: String) -> Prometheus.Gauge {
            registry.makeGauge(
                descriptor: MetricNameDescriptor(namespace: "pisync", metricName: name, unitName: "", helpText: help))
        }
        connections = gauge("connections", "Binary-protocol connections open")
        subscribers = gauge("subscribers", "Alert subscriptions open")
        devices = gauge("stored_devices", "Devices held in memory")
        events = gauge("stored_events", "Sync events held in memory")
        ready = gauge("ready", "1 when /readyz answers 200, else 0")
        logDegraded = gauge("log_degraded", "1 while the write-ahead log cannot be written (disk fault), else 0")
    }

    /// The Prometheus text exposition, after reading the gauges from `launcher`'s server.
    func render(_ launcher: ApplicationLauncher) -> [UInt8] {
        let status = launcher.health.status
        ready.set(to: status.ready ? 1 : 0)
        if let application = launcher.application {
            connections.set(to: Double(application.server.connectionCount))
            subscribers.set(to: Double(application.bus.subscriberCount))
            let counts = application.store.storedCounts
            devices.set(to: Double(counts.devices))
            events.set(to: Double(counts.events))
            logDegraded.set(to: application.log.fault == nil ? 0 : 1)
        }
        var text = registry.emitToBuffer()
        text += Array(server.recordSyncDuration.exposition.utf8)
        return text
    }
}
