import PiSyncAuth
import PiSyncPersistence
import PiSyncStore

/// Everything `pisync serve` can be told, with the documented defaults.
public struct ServerConfiguration: Sendable, CustomStringConvertible {
    /// Interface to listen on.
    public var host: String = "127.0.0.1"
    /// TCP port; 0 picks a free one.
    public var port: Int = 7878
    /// Where the snapshot and the write-ahead log are kept.
    public var dataDirectory: String = "./pisync-data"
    /// When a recorded event counts as durable, and so when it is acknowledged.
    public var fsync: FsyncPolicy = .always
    /// Time between `fdatasync`s under ``FsyncPolicy/interval``.
    public var fsyncInterval: Duration = .seconds(1)
    /// A snapshot is taken once the log has grown by this many bytes since the last one.
    public var snapshotLogBytes: Int = 64 << 20
    /// Size at which a log segment is closed and the next one started.
    public var logSegmentBytes: Int = 16 << 20
    /// Largest frame body, in bytes; a larger declared length closes the connection.
    public var maxFrameSize: Int = 1 << 20
    /// Once a frame has begun to arrive, all of it must within this long (a peer that dribbles a
    /// frame byte by byte, slowloris, is closed with DEADLINE_EXCEEDED).
    public var frameTimeout: Duration = .seconds(30)
    /// Most events in one RecordSync.
    public var maxBatchSize: Int = 1000
    /// A connection that sends nothing for this long and has no open subscription is closed.
    public var idleTimeout: Duration = .seconds(300)
    /// Connections served at once; further ones get RESOURCE_EXHAUSTED and are closed.
    public var maxConnections: Int = 1024
    /// Connections served at once from one source address (devices behind one school's NAT
    /// share an address); further ones get RESOURCE_EXHAUSTED and are closed.
    public var maxConnectionsPerPeer: Int = 256
    /// The token secrets. Auth is on when set: every connection must Authenticate first.
    public var authSecrets: AuthSecrets?
    /// TLS for the port; `nil` serves plain TCP.
    public var tls: ServerTLS?
    /// Serve an address other than loopback with auth off (protected mode refuses to).
    public var allowUnauthenticated = false
    /// With auth on, a connection that has not authenticated this long after connecting is
    /// closed with UNAUTHENTICATED.
    public var authTimeout: Duration = .seconds(10)
    /// How long after answering a refused token with UNAUTHENTICATED the connection is closed.
    public var authFailureDelay: Duration = .seconds(1)
    /// Refused tokens one source address may present per minute (and at once); beyond that,
    /// Authenticate gets RESOURCE_EXHAUSTED with retry_after_ms, without the token being checked.
    public var maxAuthFailuresPerMinute: Int = 10
    /// Events per second one device may record, on average (a token bucket); `nil` means the
    /// default: 100 with auth on, no limit with auth off. 0 turns the limit off. Operator
    /// connections are not limited.
    public var deviceRate: Double?
    /// Events one device may record at once before ``deviceRate`` applies (the bucket's size).
    public var deviceBurst: Int = 2000
    /// Bytes of responses buffered for one connection (its write buffer's high-water mark)
    /// before the server stops reading its requests; reading resumes when half has drained. A
    /// client that sends and never reads so holds at most this, plus one response and what one
    /// read brought in.
    public var connectionWriteBuffer: Int = 64 * 1024
    /// Requests of one connection read but not yet answered (waiting for the log, or for the
    /// write buffer) before the server stops reading it.
    public var maxPipelinedRequests: Int = 1024
    /// Alert subscriptions one connection may hold open; more get RESOURCE_EXHAUSTED.
    public var maxSubscriptionsPerConnection: Int = 16
    /// Alert subscriptions open at once across the server; more get RESOURCE_EXHAUSTED.
    public var maxSubscriptions: Int = 10_000
    /// Alerts buffered per subscriber before its subscription is ended.
    public var subscriberBufferSize: Int = 1024
    /// Consecutive failures that raise an alert.
    public var alertThreshold: Int = 3
    /// Recent alerts kept for subscribers that resume with `from_sequence`.
    public var alertHistory: Int = StoreConfiguration.defaultAlertHistory
    /// Time between periodic snapshots (and between retention passes).
    public var snapshotInterval: Duration = .seconds(30)
    /// Days an event stays in memory after its timestamp before it moves to the archive;
    /// 0: no limit.
    public var retainDays: Int = 0
    /// Newest events of each device kept in memory; older ones move to the archive; 0: no limit.
    public var retainEventsPerDevice: Int = 0
    /// Earliest accepted event timestamp, Unix ms (default 2000-01-01).
    public var minTimestamp: Int64 = EventValidator.year2000
    /// How far in the future an event timestamp may be, in ms (default 5 minutes).
    public var maxFutureSkewMillis: Int64 = 5 * 60 * 1000
    /// Bytes of alerts a subscriber's connection may hold in the kernel (SO_SNDBUF) and, again,
    /// in the server's write buffer, set when the connection opens its first subscription.
    /// Without it the kernel's autotuning lets megabytes of alerts pile up unseen behind a
    /// subscriber that stopped reading, before `subscriberBufferSize` can notice.
    public var subscriberSendBuffer: Int = 32 * 1024
    /// How long shutdown waits for connections to drain before closing them.
    public var shutdownGracePeriod: Duration = .seconds(5)
    /// How long a connection being closed with a last notice (idle, shutdown, a bad frame)
    /// waits for the notice to be written before it is closed anyway: a peer that never reads
    /// would otherwise hold it open, and counted against ``maxConnections``, forever.
    public var closeTimeout: Duration = .seconds(5)

    /// Creates the default configuration.
    public init() {}

    /// Whether connections must authenticate, with a token or a client certificate.
    public var authRequired: Bool { authSecrets != nil || tls?.clientCAPath != nil }

    /// The per-device rate in force: ``deviceRate``, or its default for the auth mode.
    public var effectiveDeviceRate: Double { deviceRate ?? (authRequired ? 100 : 0) }

    /// The store settings these imply.
    public var storeConfiguration: StoreConfiguration {
        StoreConfiguration(
            alertThreshold: alertThreshold,
            validator: EventValidator(minTimestamp: minTimestamp, maxFutureSkewMillis: maxFutureSkewMillis),
            alertHistory: alertHistory)
    }

    /// The retention policy these imply.
    public var retention: RetentionPolicy {
        RetentionPolicy(retainDays: retainDays, retainEventsPerDevice: retainEventsPerDevice)
    }

    /// The write-ahead log settings these imply.
    public var logConfiguration: WriteAheadLog.Configuration {
        var configuration = WriteAheadLog.Configuration(directory: dataDirectory)
        configuration.fsync = fsync
        configuration.fsyncInterval = fsyncInterval
        configuration.segmentBytes = logSegmentBytes
        return configuration
    }

    public var description: String {
        "max_frame_size=\(maxFrameSize) frame_timeout=\(frameTimeout.logText) max_batch_size=\(maxBatchSize) idle_timeout=\(idleTimeout.logText) "
            + "max_connections=\(maxConnections) max_connections_per_peer=\(maxConnectionsPerPeer) "
            + "auth=\(authSecrets.map { "on(key_ids=\($0.keyIDs.joined(separator: ",")))" } ?? (authRequired ? "on(client_certificates)" : "off")) "
            + "tls=\(tls == nil ? "off" : tls?.clientCAPath == nil ? "on" : "on(client_certificates)") "
            + "auth_timeout=\(authTimeout.logText) device_rate=\(effectiveDeviceRate) device_burst=\(deviceBurst) connection_write_buffer=\(connectionWriteBuffer) "
            + "max_pipelined_requests=\(maxPipelinedRequests) max_subscriptions=\(maxSubscriptions) "
            + "max_subscriptions_per_connection=\(maxSubscriptionsPerConnection) subscriber_buffer=\(subscriberBufferSize) "
            + "alert_threshold=\(alertThreshold) alert_history=\(alertHistory) snapshot_interval=\(snapshotInterval.logText) "
            + "min_timestamp=\(minTimestamp) max_future_skew_ms=\(maxFutureSkewMillis) "
            + "subscriber_send_buffer=\(subscriberSendBuffer) fsync=\(fsync) fsync_interval=\(fsyncInterval.logText) "
            + "snapshot_log_bytes=\(snapshotLogBytes) close_timeout=\(closeTimeout.logText) "
            + "retain_days=\(retainDays) retain_events_per_device=\(retainEventsPerDevice)"
    }
}

extension Duration {
    /// Seconds with a unit, for logs: "300s", or "0.5s" when not whole.
    var logText: String {
        let (seconds, attoseconds) = components
        guard attoseconds != 0 else { return "\(seconds)s" }
        return "\(Double(seconds) + Double(attoseconds) / 1e18)s"
    }
}
