import ArgumentParser
import Foundation
import Logging
import PiSyncAuth
import PiSyncPersistence
import PiSyncServer

/// `pisync serve`: runs the server until SIGTERM or SIGINT.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the PiSync server.",
        discussion: """
            Each setting comes from its flag, else the environment variable PISYNC_<NAME> \
            (e.g. PISYNC_PORT, PISYNC_DATA_DIR), else the same variable in ./.env, else its default.
            """)

    @Option(help: "Interface to listen on (PISYNC_HOST; default 127.0.0.1).") var host: String?
    @Option(help: "TCP port, 0 for any free one (PISYNC_PORT; default 7878).") var port: Int?
    @Option(help: "Data directory for snapshots (PISYNC_DATA_DIR; default ./pisync-data).") var dataDir: String?
    @Option(help: "Largest frame body in bytes (PISYNC_MAX_FRAME_SIZE; default 1048576).") var maxFrameSize: Int?
    @Option(help: "Most events per RecordSync (PISYNC_MAX_BATCH_SIZE; default 1000).") var maxBatchSize: Int?
    @Option(help: "Seconds a frame may take to arrive once it has begun (PISYNC_FRAME_TIMEOUT; default 30).")
    var frameTimeout: Int?
    @Option(help: "Seconds before an idle connection is closed (PISYNC_IDLE_TIMEOUT; default 300).") var idleTimeout: Int?
    @Option(help: "Connections served at once (PISYNC_MAX_CONNECTIONS; default 1024).") var maxConnections: Int?
    @Option(help: "Connections served at once from one source address (PISYNC_MAX_CONNECTIONS_PER_PEER; default 256).")
    var maxConnectionsPerPeer: Int?
    @Option(help: "Turns auth on: the token secret file, lines KEY_ID SECRET, mode 0600 (PISYNC_AUTH_SECRET_FILE).")
    var authSecretFile: String?
    @Option(help: "Serve TLS with this PEM certificate chain (PISYNC_TLS_CERT; needs --tls-key).") var tlsCert: String?
    @Option(help: "The PEM private key of --tls-cert (PISYNC_TLS_KEY).") var tlsKey: String?
    @Option(help: "PEM CA whose client certificates identify devices by CN or SAN: mutual TLS (PISYNC_TLS_CLIENT_CA).")
    var tlsClientCa: String?
    @Flag(help: "Serve a non-loopback address with auth off (protected mode refuses to); trusted networks only (PISYNC_ALLOW_UNAUTHENTICATED=true).")
    var allowUnauthenticated = false
    @Option(help: "Refused tokens one source address may present per minute (PISYNC_MAX_AUTH_FAILURES_PER_MINUTE; default 10).")
    var maxAuthFailuresPerMinute: Int?
    @Option(help: "Seconds a connection has to authenticate when auth is on (PISYNC_AUTH_TIMEOUT; default 10).")
    var authTimeout: Int?
    @Option(help: "Seconds before a connection whose token was refused is closed (PISYNC_AUTH_FAILURE_DELAY; default 1).")
    var authFailureDelay: Double?
    @Option(help: "Events per second one device may record, 0 for no limit (PISYNC_DEVICE_RATE; default 100 with auth on, no limit with auth off).")
    var deviceRate: Double?
    @Option(help: "Events one device may record at once before --device-rate applies (PISYNC_DEVICE_BURST; default 2000).")
    var deviceBurst: Int?
    @Option(help: "Alerts buffered per subscriber (PISYNC_SUBSCRIBER_BUFFER; default 1024).") var subscriberBuffer: Int?
    @Option(help: "Alert subscriptions open at once (PISYNC_MAX_SUBSCRIPTIONS; default 10000).") var maxSubscriptions: Int?
    @Option(help: "Alert subscriptions per connection (PISYNC_MAX_SUBSCRIPTIONS_PER_CONNECTION; default 16).")
    var maxSubscriptionsPerConnection: Int?
    @Option(help: "Bytes of responses buffered for a connection before the server stops reading it (PISYNC_CONNECTION_WRITE_BUFFER; default 65536).")
    var connectionWriteBuffer: Int?
    @Option(help: "Requests of a connection read but not yet answered before the server stops reading it (PISYNC_MAX_PIPELINED_REQUESTS; default 1024).")
    var maxPipelinedRequests: Int?
    @Option(help: "Consecutive failures that raise an alert (PISYNC_ALERT_THRESHOLD; default 3).") var alertThreshold: Int?
    @Option(help: "Recent alerts kept for subscribers that resume with from_sequence (PISYNC_ALERT_HISTORY; default 10000).")
    var alertHistory: Int?
    @Option(help: "Seconds between snapshots (PISYNC_SNAPSHOT_INTERVAL; default 30).") var snapshotInterval: Int?
    @Option(help: "Days an event stays in memory after its timestamp before it moves to the archive, 0 for no limit (PISYNC_RETAIN_DAYS; default 0).")
    var retainDays: Int?
    @Option(help: "Newest events per device kept in memory; older ones move to the archive, 0 for no limit (PISYNC_RETAIN_EVENTS_PER_DEVICE; default 0).")
    var retainEventsPerDevice: Int?
    @Option(help: "Earliest accepted timestamp, Unix ms (PISYNC_MIN_TIMESTAMP; default 946684800000, 2000-01-01).")
    var minTimestamp: Int64?
    @Option(help: "Largest accepted clock skew into the future, ms (PISYNC_MAX_FUTURE_SKEW_MS; default 300000).")
    var maxFutureSkewMs: Int64?
    @Option(help: "Bytes a subscriber's connection may buffer in the kernel and in the server (PISYNC_SUBSCRIBER_SEND_BUFFER; default 32768).")
    var subscriberSendBuffer: Int?
    @Option(help: "When an event is durable before it is acknowledged: always, interval, never (PISYNC_FSYNC; default always).")
    var fsync: String?
    @Option(help: "Seconds between fsyncs under --fsync interval (PISYNC_FSYNC_INTERVAL; default 1).")
    var fsyncInterval: Double?
    @Option(help: "Log growth in bytes that triggers a snapshot (PISYNC_SNAPSHOT_LOG_BYTES; default 67108864).")
    var snapshotLogBytes: Int?
    @Option(help: "Seconds a connection being closed waits for its last notice to be written (PISYNC_CLOSE_TIMEOUT; default 5).")
    var closeTimeout: Int?
    @Option(help: "Log format: text, or json (one object per line, metadata as fields) (PISYNC_LOG_FORMAT; default text).")
    var logFormat: String?
    @Option(help: "Log level: trace, debug, info, notice, warning, error (PISYNC_LOG_LEVEL; default info).")
    var logLevel: String?
    @Option(help: "Serve the admin HTTP port (/metrics, /healthz, /readyz) on this port, 0 for any free one (PISYNC_ADMIN_PORT; default off).")
    var adminPort: Int?
    @Option(help: "Interface of the admin HTTP port (PISYNC_ADMIN_HOST; default 127.0.0.1).") var adminHost: String?
    @Flag(help: "Serve the REST gateway on the admin HTTP port (PISYNC_REST=true; needs --admin-port).")
    var rest = false

    func run() async throws {
        let settings = try SettingsSource.current()
        let configuration = try resolve(settings)
        let admin = try resolveAdmin(settings)
        let logger = try LogSetup.bootstrap(
            level: settings.value(logLevel, "LOG_LEVEL") ?? "info", format: settings.value(logFormat, "LOG_FORMAT") ?? "text")
        do {
            try configuration.checkProtectedMode()
            _ = try configuration.tls?.makeContext()
        } catch {
            logger.critical("\(error); refusing to start")
            throw ExitCode(1)
        }

        do {
            try await serve(configuration, admin: admin, logger: logger)
        } catch let error as DataDirectoryLockError {
            logger.critical("\(error); refusing to start")
            throw ExitCode(1)
        } catch let error as WriteAheadLogError {
            if case .corrupt = error {
                logger.critical("\(error); refusing to start. Run `pisync repair --data-dir \(configuration.dataDirectory)` to truncate the log at the damage")
            } else {
                logger.critical("\(error); refusing to start")
            }
            throw ExitCode(1)
        }
    }

    private func resolve(_ settings: SettingsSource) throws -> ServerConfiguration {
        var configuration = ServerConfiguration()
        configuration.host = try settings.value(host, "HOST") ?? configuration.host
        configuration.port = try settings.value(port, "PORT") ?? configuration.port
        configuration.dataDirectory = try settings.value(dataDir, "DATA_DIR") ?? configuration.dataDirectory
        configuration.maxFrameSize = try positive(settings.value(maxFrameSize, "MAX_FRAME_SIZE"), "max-frame-size")
            ?? configuration.maxFrameSize
        configuration.maxBatchSize = try positive(settings.value(maxBatchSize, "MAX_BATCH_SIZE"), "max-batch-size")
            ?? configuration.maxBatchSize
        if let seconds = try positive(settings.value(frameTimeout, "FRAME_TIMEOUT"), "frame-timeout") {
            configuration.frameTimeout = .seconds(seconds)
        }
        if let seconds = try positive(settings.value(idleTimeout, "IDLE_TIMEOUT"), "idle-timeout") {
            configuration.idleTimeout = .seconds(seconds)
        }
        configuration.maxConnections = try positive(settings.value(maxConnections, "MAX_CONNECTIONS"), "max-connections")
            ?? configuration.maxConnections
        configuration.maxConnectionsPerPeer = try positive(
            settings.value(maxConnectionsPerPeer, "MAX_CONNECTIONS_PER_PEER"), "max-connections-per-peer")
            ?? configuration.maxConnectionsPerPeer
        try resolveAuth(settings, into: &configuration)
        configuration.subscriberBufferSize =
            try positive(settings.value(subscriberBuffer, "SUBSCRIBER_BUFFER"), "subscriber-buffer")
            ?? configuration.subscriberBufferSize
        configuration.maxSubscriptions = try positive(settings.value(maxSubscriptions, "MAX_SUBSCRIPTIONS"), "max-subscriptions")
            ?? configuration.maxSubscriptions
        configuration.maxSubscriptionsPerConnection = try positive(
            settings.value(maxSubscriptionsPerConnection, "MAX_SUBSCRIPTIONS_PER_CONNECTION"),
            "max-subscriptions-per-connection") ?? configuration.maxSubscriptionsPerConnection
        configuration.connectionWriteBuffer = try positive(
            settings.value(connectionWriteBuffer, "CONNECTION_WRITE_BUFFER"), "connection-write-buffer")
            ?? configuration.connectionWriteBuffer
        configuration.maxPipelinedRequests = try positive(
            settings.value(maxPipelinedRequests, "MAX_PIPELINED_REQUESTS"), "max-pipelined-requests")
            ?? configuration.maxPipelinedRequests
        configuration.alertThreshold = try positive(settings.value(alertThreshold, "ALERT_THRESHOLD"), "alert-threshold")
            ?? configuration.alertThreshold
        if let history = try settings.value(alertHistory, "ALERT_HISTORY") {
            guard (0...10_000_000).contains(history) else {
                throw ValidationError("alert-history must be between 0 and 10000000, got \(history)")
            }
            configuration.alertHistory = history
        }
        if let seconds = try positive(settings.value(snapshotInterval, "SNAPSHOT_INTERVAL"), "snapshot-interval") {
            configuration.snapshotInterval = .seconds(seconds)
        }
        if let days = try settings.value(retainDays, "RETAIN_DAYS") {
            guard (0...36_500).contains(days) else {
                throw ValidationError("retain-days must be between 0 (no limit) and 36500, got \(days)")
            }
            configuration.retainDays = days
        }
        if let events = try settings.value(retainEventsPerDevice, "RETAIN_EVENTS_PER_DEVICE") {
            guard (0...1_000_000_000).contains(events) else {
                throw ValidationError("retain-events-per-device must be between 0 (no limit) and 1000000000, got \(events)")
            }
            configuration.retainEventsPerDevice = events
        }
        if let seconds = try positive(settings.value(closeTimeout, "CLOSE_TIMEOUT"), "close-timeout") {
            configuration.closeTimeout = .seconds(seconds)
        }
        if let policy = try settings.value(fsync, "FSYNC") {
            guard let parsed = FsyncPolicy(rawValue: policy) else {
                throw ValidationError("fsync '\(policy)' is not one of always, interval, never")
            }
            configuration.fsync = parsed
        }
        if let seconds = try settings.value(fsyncInterval, "FSYNC_INTERVAL") {
            guard seconds > 0, seconds <= 3600 else {
                throw ValidationError("fsync-interval must be greater than 0 and at most 3600 seconds, got \(seconds)")
            }
            configuration.fsyncInterval = .milliseconds(Int64((seconds * 1000).rounded()))
        }
        configuration.snapshotLogBytes = try positive(settings.value(snapshotLogBytes, "SNAPSHOT_LOG_BYTES"), "snapshot-log-bytes")
            ?? configuration.snapshotLogBytes
        configuration.minTimestamp = try settings.value(minTimestamp, "MIN_TIMESTAMP") ?? configuration.minTimestamp
        configuration.maxFutureSkewMillis = try settings.value(maxFutureSkewMs, "MAX_FUTURE_SKEW_MS")
            ?? configuration.maxFutureSkewMillis
        configuration.subscriberSendBuffer = try positive(
            settings.value(subscriberSendBuffer, "SUBSCRIBER_SEND_BUFFER"), "subscriber-send-buffer")
            ?? configuration.subscriberSendBuffer
        guard (0...65535).contains(configuration.port) else {
            throw ValidationError("port \(configuration.port) is not between 0 and 65535")
        }
        guard configuration.maxFutureSkewMillis >= 0 else {
            throw ValidationError("max-future-skew-ms must be >= 0")
        }
        return configuration
    }

    private func resolveAuth(_ settings: SettingsSource, into configuration: inout ServerConfiguration) throws {
        if let path = try settings.value(authSecretFile, "AUTH_SECRET_FILE"), !path.isEmpty {
            do {
                // systemd's LoadCredential= files show their access ACL as group read (0440).
                let credentials = ProcessInfo.processInfo.environment["CREDENTIALS_DIRECTORY"].map { $0.hasSuffix("/") ? $0 : $0 + "/" }
                let isCredential = credentials.map { path.hasPrefix($0) } ?? false
                configuration.authSecrets = try AuthSecrets(contentsOf: path, groupReadable: isCredential)
            } catch {
                throw ValidationError(error.description)
            }
        }
        let cert = try settings.value(tlsCert, "TLS_CERT").flatMap { $0.isEmpty ? nil : $0 }
        let key = try settings.value(tlsKey, "TLS_KEY").flatMap { $0.isEmpty ? nil : $0 }
        let clientCA = try settings.value(tlsClientCa, "TLS_CLIENT_CA").flatMap { $0.isEmpty ? nil : $0 }
        switch (cert, key) {
        case (let cert?, let key?):
            configuration.tls = ServerTLS(certificateChainPath: cert, privateKeyPath: key, clientCAPath: clientCA)
        case (nil, nil):
            if clientCA != nil { throw ValidationError("--tls-client-ca needs --tls-cert and --tls-key") }
        default:
            throw ValidationError("give both --tls-cert and --tls-key, or neither")
        }
        configuration.allowUnauthenticated =
            try settings.value(allowUnauthenticated ? true : nil, "ALLOW_UNAUTHENTICATED") ?? false
        configuration.maxAuthFailuresPerMinute = try positive(
            settings.value(maxAuthFailuresPerMinute, "MAX_AUTH_FAILURES_PER_MINUTE"), "max-auth-failures-per-minute")
            ?? configuration.maxAuthFailuresPerMinute
        if let seconds = try positive(settings.value(authTimeout, "AUTH_TIMEOUT"), "auth-timeout") {
            configuration.authTimeout = .seconds(seconds)
        }
        if let seconds = try settings.value(authFailureDelay, "AUTH_FAILURE_DELAY") {
            guard seconds >= 0, seconds <= 3600 else {
                throw ValidationError("auth-failure-delay must be between 0 and 3600 seconds, got \(seconds)")
            }
            configuration.authFailureDelay = .milliseconds(Int64((seconds * 1000).rounded()))
        }
        if let rate = try settings.value(deviceRate, "DEVICE_RATE") {
            guard rate >= 0, rate <= 1e9 else { throw ValidationError("device-rate must be between 0 and 1e9, got \(rate)") }
            configuration.deviceRate = rate
        }
        configuration.deviceBurst = try positive(settings.value(deviceBurst, "DEVICE_BURST"), "device-burst")
            ?? configuration.deviceBurst
    }

    private func positive<Value: BinaryInteger>(_ value: Value?, _ name: String) throws -> Value? {
        if let value, value <= 0 { throw ValidationError("\(name) must be greater than 0, got \(value)") }
        return value
    }
}
