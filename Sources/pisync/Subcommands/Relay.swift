import ArgumentParser
import AsyncHTTPClient
import Foundation
import Logging
import ServiceLifecycle

/// `pisync relay`: turns the alert stream into webhook POSTs, resuming after restarts.
struct Relay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "POST each failure alert and recovery to a webhook (Slack, Mattermost, any HTTP receiver), until SIGTERM or SIGINT.",
        discussion: """
            Each message is a JSON body with a one-line `text` (which Slack and Mattermost incoming \
            webhooks post as it is) and the alert's fields. Messages go one at a time, in order; a \
            failed POST is retried with exponential backoff and full jitter. After each delivery the \
            sequence number is written to --state-file, and a restart resumes after it: nothing is \
            lost and nothing repeated. A dropped server connection is retried the same way.
            """)

    @Option(help: "URL to POST to, http:// or https:// (default: PISYNC_WEBHOOK from the environment, else ./.env, which keeps a secret URL out of `ps`).")
    var webhook: String?

    @Option(help: "File that keeps the last delivered sequence number, written atomically after each delivery.")
    var stateFile = "./pisync-relay.state"

    @Option(help: "Only alerts and recoveries of devices whose id starts with this.")
    var devicePrefix = ""

    @Option(help: "Seconds: the first retry waits a random time up to this; the cap doubles with each retry.")
    var retryInitialDelay: Double = 1

    @Option(help: "Seconds: the largest cap of a retry's wait, for POSTs and reconnects alike.")
    var retryMaxDelay: Double = 60

    @Option(help: "Seconds one POST may take, connecting included.")
    var webhookTimeout: Double = 10

    @Option(help: "Give up on a message once the webhook has refused it (a 3xx or 4xx other than 408 and 429) this many times; 0: never, the message is retried and later ones wait behind it.")
    var dropAfter = 0

    @Option(help: "Log format: text, or json (PISYNC_LOG_FORMAT; default text).")
    var logFormat: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error (PISYNC_LOG_LEVEL; default info).")
    var logLevel: String?

    @OptionGroup var client: ClientOptions

    func validate() throws {
        if client.json { throw ValidationError("--json: the relay prints a log, not results; use --log-format json") }
        for (name, seconds) in [("retry-initial-delay", retryInitialDelay), ("retry-max-delay", retryMaxDelay), ("webhook-timeout", webhookTimeout)] {
            guard seconds > 0, seconds <= 3600 else {
                throw ValidationError("--\(name) must be greater than 0 and at most 3600 seconds, got \(seconds)")
            }
        }
        guard retryInitialDelay <= retryMaxDelay else {
            throw ValidationError("--retry-initial-delay (\(retryInitialDelay)) must not exceed --retry-max-delay (\(retryMaxDelay))")
        }
        guard dropAfter >= 0 else { throw ValidationError("--drop-after must be 0 (never) or more, got \(dropAfter)") }
        guard !stateFile.isEmpty else { throw ValidationError("--state-file must not be empty") }
    }

    func run() async throws {
        let settings = SettingsSource.lenient()
        let logger = try LogSetup.bootstrap(
            level: settings.text(logLevel, "LOG_LEVEL") ?? "info", format: settings.text(logFormat, "LOG_FORMAT") ?? "text")
        let (url, site) = try webhookURL(settings)
        let (host, port) = try client.address()
        let upstream = WebhookRelay.Upstream(host: host, port: port, token: try client.token(settings), tls: try client.tlsConfiguration(settings))
        let state: RelayStateFile
        do {
            state = try RelayStateFile(path: stateFile)
        } catch {
            logger.critical("\(error); refusing to start")
            throw ExitCode(1)
        }
        let timeout = Duration.milliseconds(Int64((webhookTimeout * 1000).rounded()))
        let backoff = RetryBackoff(
            initial: .milliseconds(Int64((retryInitialDelay * 1000).rounded())),
            maximum: .milliseconds(Int64((retryMaxDelay * 1000).rounded())))
        let http = HTTPClient(
            eventLoopGroupProvider: .singleton,
            configuration: .init(redirectConfiguration: .disallow, timeout: .init(connect: .init(timeout), read: .init(timeout))))
        let sender = WebhookSender(client: http, url: url, timeout: timeout, backoff: backoff, dropAfter: dropAfter, logger: logger)
        let relay = WebhookRelay(
            upstream: upstream, devicePrefix: devicePrefix, state: state, sender: sender, backoff: backoff, logger: logger)
        logger.info("POSTing to \(site) (state \(stateFile)\(devicePrefix.isEmpty ? "" : ", devices \(devicePrefix)*"))")
        var configuration = ServiceGroupConfiguration(
            services: [.init(service: relay)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        // A POST in flight may finish (its timeout bounds it); past that the relay is cancelled.
        configuration.maximumGracefulShutdownDuration = timeout * 2 + .seconds(5)
        var failure: (any Error)?
        do {
            try await ServiceGroup(configuration: configuration).run()
        } catch {
            failure = error
        }
        try? await http.shutdown()
        if let failure {
            logger.critical("\(failure); stopping")
            throw ExitCode(1)
        }
    }

    /// The webhook URL from --webhook or PISYNC_WEBHOOK, and its scheme and host for the log
    /// (an incoming webhook's path is its secret).
    private func webhookURL(_ settings: SettingsSource) throws -> (url: String, site: String) {
        guard let text = settings.text(webhook, "WEBHOOK") else {
            throw ValidationError("--webhook URL is required (or PISYNC_WEBHOOK in the environment or ./.env)")
        }
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
            let host = url.host, !host.isEmpty
        else {
            throw ValidationError("--webhook '\(text)' is not an http:// or https:// URL with a host")
        }
        return (text, "\(scheme)://\(host)\(url.port.map { ":\($0)" } ?? "")")
    }
}
