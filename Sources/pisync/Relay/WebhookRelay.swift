import Logging
import NIOSSL
import PiSyncClient
import PiSyncProtocol
import ServiceLifecycle

/// `pisync relay`'s work, as a service: subscribes to the server's alert stream, resuming after
/// the sequence in the state file, POSTs each alert and recovery to the webhook in order, and
/// records each delivered sequence before taking the next. A dropped connection (a server
/// restart) is retried with backoff and resumed from the state. A graceful shutdown lets a
/// POST in flight finish, and stops.
struct WebhookRelay: Service {
    /// Where the PiSync server is and how to connect to it.
    struct Upstream: Sendable {
        let host: String
        let port: Int
        let token: String?
        let tls: TLSConfiguration?

        /// `host:port`.
        var name: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    let upstream: Upstream
    let devicePrefix: String
    let state: RelayStateFile
    let sender: WebhookSender
    /// The waits between reconnects.
    let backoff: RetryBackoff
    let logger: Logger

    func run() async throws {
        var delivered = try state.read()
        let start = delivered.map { "resuming after #\($0) (\(state.path))" } ?? "from the live stream (no \(state.path) yet)"
        logger.info("relaying alerts from \(upstream.name) to the webhook, \(start)")
        var failures = 0
        while !Task.isShuttingDownGracefully {
            do {
                try await session(&delivered) { failures = 0 }
                throw RelayError(retryable: "the server ended the alert stream")
            } catch let error as RelayError where !error.fatal {
                guard !Task.isShuttingDownGracefully else { break }
                failures += 1
                let wait = backoff.delay(attempt: failures)
                logger.warning("\(error); reconnecting in \(WebhookSender.seconds(wait))")
                do {
                    try await cancelWhenGracefulShutdown { try await Task.sleep(for: wait) }
                } catch {
                    break
                }
            } catch is CancellationError {
                break
            }
        }
        logger.info("stopped; last delivered: \(delivered.map { "#\($0)" } ?? "none") (\(state.path))")
    }

    /// One connection: subscribe after `delivered`, then deliver until the stream ends.
    private func session(_ delivered: inout UInt64?, subscribed: () -> Void) async throws {
        let client: PiSyncClient
        do {
            client = try await PiSyncClient.connect(
                host: upstream.host, port: upstream.port, connectTimeout: .seconds(10), tls: upstream.tls)
        } catch {
            throw RelayError(retryable: ConnectFailure.message(host: upstream.host, port: upstream.port, timeout: .seconds(10), error))
        }
        defer { client.close() }
        try await withGracefulShutdownHandler {
            do {
                if let token = upstream.token { try await client.authenticate(token: token) }
                let stream = try await client.subscribeFailureAlerts(fromSequence: delivered, deviceIDPrefix: devicePrefix)
                subscribed()
                try await begin(stream.confirmation, &delivered)
                for try await event in stream.events {
                    if Task.isShuttingDownGracefully { break }  // what is buffered comes again after a restart
                    if let last = delivered, event.sequence <= last { continue }  // never twice
                    _ = try await sender.deliver(WebhookPayload(event, server: upstream.name))
                    delivered = event.sequence
                    await save(event.sequence)
                }
            } catch let error as PiSyncError {
                throw RelayError(error, hasToken: upstream.token != nil)
            } catch let error as PiSyncClientError {
                throw RelayError(retryable: "\(error)")
            } catch is CancellationError {
                throw CancellationError()
            } catch let error as RelayError {
                throw error
            } catch {
                throw RelayError(retryable: "connection to \(upstream.name) lost: \(error)")
            }
        } onGracefulShutdown: {
            client.close()  // ends the stream; a POST in flight goes on
        }
    }

    /// Acts on the subscription's confirmation: a server behind the state, alerts lost, or a
    /// first start.
    private func begin(_ confirmation: Pisync_V1_SubscribeFailureAlertsResponse, _ delivered: inout UInt64?) async throws {
        let last = confirmation.lastSequence
        if let from = delivered, last < from {
            let why = "it lost its data or is another server"
            logger.warning("the server's last sequence is #\(last), below #\(from) already delivered: \(why); relaying its alerts after #\(last)")
            delivered = last
            await save(last)
        }
        if confirmation.alertsLost > 0 {
            let from = delivered ?? 0
            logger.error("\(confirmation.alertsLost) alerts after #\(from) are no longer held by the server: they are lost")
            _ = try await sender.deliver(
                WebhookPayload(lost: confirmation.alertsLost, after: from, lastSequence: last, server: upstream.name))
            // The lost ones are the oldest after `from`: their numbers will never come.
            let (sum, overflow) = from.addingReportingOverflow(confirmation.alertsLost)
            delivered = overflow ? last : min(sum, last)
            await save(delivered ?? last)
        }
        if delivered == nil {
            logger.info("starting after #\(last), the server's last alert")
            delivered = last
            await save(last)
        }
    }

    /// Records `sequence` as delivered. A failure is logged and the relay goes on: alerts keep
    /// reaching people, and a restart before the next good write repeats some.
    private func save(_ sequence: UInt64) async {
        do {
            try await state.write(sequence)
        } catch {
            logger.error("cannot write the state file \(state.path): \(error); a restart now would repeat alerts delivered since")
        }
    }
}
