import Metrics
import PiSyncPersistence
import PiSyncProtocol

/// The server's instruments, made once from a metrics factory (the admin port's Prometheus
/// registry, one per server) and handed to the code they measure.
///
/// Every label set is created here, up front, so that counting a request is an array lookup
/// and an atomic add: no lock, no allocation, no registry lookup on the hot path. Gauges that
/// describe the state (connections, subscribers, devices, events stored) are read when scraped,
/// not kept up to date per request.
public struct ServerMetrics: Sendable {
    /// `pisync_requests_total{call, code}`, indexed by call then status code.
    private let requests: [Counter]
    private static let codes = StatusCode.allCases
    /// `pisync_events_total{outcome="accepted"}`: events stored.
    let eventsAccepted: Counter
    /// `pisync_events_total{outcome="duplicate"}`: events already held (retries).
    let eventsDuplicate: Counter
    /// `pisync_events_total{outcome="rejected"}`: events refused by validation.
    let eventsRejected: Counter
    /// `pisync_alerts_raised_total{kind}`: alerts and recoveries published.
    let alertsRaised: Counter
    let recoveriesRaised: Counter
    /// `pisync_alerts_delivered_total`: alerts and recoveries handed to a subscriber (live or replayed).
    let alertsDelivered: Counter
    /// `pisync_record_sync_duration_seconds`: validating, storing and journaling one RecordSync.
    /// Not a swift-metrics Timer: swift-prometheus's histogram locks per observation, and this
    /// one is recorded on every RecordSync (see ``LatencyHistogram``).
    public let recordSyncDuration = LatencyHistogram(
        name: "pisync_record_sync_duration_seconds",
        help: "Time to validate, store and journal one RecordSync (the fsync wait is not in it)",
        bounds: [
            .microseconds(25), .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500),
            .milliseconds(1), .microseconds(2500), .milliseconds(5), .milliseconds(10), .milliseconds(25),
            .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5),
        ])
    /// `pisync_snapshot_duration_seconds`: writing one snapshot.
    let snapshotDuration: Timer
    /// `pisync_snapshot_size_bytes`: the last snapshot's size.
    let snapshotSize: Gauge
    /// The write-ahead log's instruments.
    public let log: LogMetrics

    /// Instruments registered with `factory`.
    public init(factory: any MetricsFactory) {
        var requests: [Counter] = []
        for call in RequestCall.allCases {
            for code in Self.codes {
                requests.append(
                    Counter(
                        label: "pisync_requests_total", dimensions: [("call", call.label), ("code", code.description)],
                        factory: factory))
            }
        }
        self.requests = requests
        func events(_ outcome: String) -> Counter {
            Counter(label: "pisync_events_total", dimensions: [("outcome", outcome)], factory: factory)
        }
        eventsAccepted = events("accepted")
        eventsDuplicate = events("duplicate")
        eventsRejected = events("rejected")
        alertsRaised = Counter(label: "pisync_alerts_raised_total", dimensions: [("kind", "alert")], factory: factory)
        recoveriesRaised = Counter(label: "pisync_alerts_raised_total", dimensions: [("kind", "recovery")], factory: factory)
        alertsDelivered = Counter(label: "pisync_alerts_delivered_total", factory: factory)
        snapshotDuration = Timer(label: "pisync_snapshot_duration_seconds", factory: factory)
        snapshotSize = Gauge(label: "pisync_snapshot_size_bytes", factory: factory)
        log = LogMetrics(factory: factory)
    }

    /// Instruments that record nothing (a server without an admin port).
    public static let disabled = ServerMetrics(factory: NOOPMetricsHandler.instance)

    /// Counts one answered request.
    func countRequest(_ call: RequestCall, _ code: StatusCode) {
        let codeIndex = Self.codes.firstIndex(of: code) ?? 0
        requests[call.rawValue * Self.codes.count + codeIndex].increment()
    }

    /// Counts one answered request by its response's code.
    func countRequest(_ call: RequestCall, _ response: Pisync_V1_Response) {
        if case .error(let error) = response.result {
            countRequest(call, StatusCode(rawValue: error.code) ?? .unknown)
        } else {
            countRequest(call, .ok)
        }
    }
}

extension ServerMetrics {
    /// Counts one answered request by the code of the frame that answers it.
    func countRequest(_ call: RequestCall, _ frame: OutboundFrame) {
        if case .response(let response) = frame {
            countRequest(call, response)
        } else {
            countRequest(call, .ok)
        }
    }
}
