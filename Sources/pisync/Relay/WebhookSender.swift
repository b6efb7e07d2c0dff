import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// POSTs payloads to the webhook, one at a time, retrying each until the receiver accepts it.
///
/// Connection errors, timeouts, 408, 429 and 5xx are retried after a backoff with full jitter,
/// or after the receiver's `Retry-After`. Any other status (a 4xx, or a 3xx: redirects are not
/// followed) means the receiver refuses the message as it is: it is logged as an error and
/// retried all the same, because skipping it would lose an alert, unless `dropAfter` allows
/// giving up after that many refusals.
struct WebhookSender: Sendable {
    /// How one payload's delivery ended.
    enum Outcome: Sendable, Equatable {
        case delivered(attempts: Int)
        /// Refused `dropAfter` times and given up on.
        case dropped(attempts: Int)
    }

    /// What one POST came to.
    enum Attempt: Sendable, Equatable {
        case accepted
        case retryable(String, retryAfter: Duration?)
        case refused(String)
    }

    let client: HTTPClient
    let url: String
    /// How long one POST may take, connection included.
    let timeout: Duration
    let backoff: RetryBackoff
    /// Refusals after which a payload is given up on; 0: never.
    let dropAfter: Int
    let logger: Logger

    /// Delivers `payload`, retrying until it is accepted (or dropped under `dropAfter`).
    /// - Throws: `CancellationError` when the relay shuts down before it is delivered.
    func deliver(_ payload: WebhookPayload) async throws -> Outcome {
        let body = try payload.json()
        var attempt = 0
        var refusals = 0
        while true {
            attempt += 1
            let wait: Duration
            switch await post(body) {
            case .accepted:
                logger.info("delivered \(payload.label)\(attempt > 1 ? " after \(attempt) attempts" : "")")
                return .delivered(attempts: attempt)
            case .retryable(let why, let retryAfter):
                wait = retryAfter ?? backoff.delay(attempt: attempt)
                logger.warning("POST of \(payload.label) failed (attempt \(attempt)): \(why); retrying in \(Self.seconds(wait))")
            case .refused(let why):
                refusals += 1
                if dropAfter > 0, refusals >= dropAfter {
                    let json = String(decoding: body, as: UTF8.self)
                    logger.critical(
                        "dropping \(payload.label): the webhook refused it \(refusals) times (--drop-after \(dropAfter)), last with \(why); it was \(json)")
                    return .dropped(attempts: attempt)
                }
                wait = backoff.delay(attempt: attempt)
                let hint = "alerts wait behind it: check the webhook URL, or give --drop-after N"
                logger.error("the webhook refused \(payload.label) (attempt \(attempt)): \(why); retrying in \(Self.seconds(wait)) (\(hint))")
            }
            try await cancelWhenGracefulShutdown { try await Task.sleep(for: wait) }
        }
    }

    /// One POST of `body`.
    func post(_ body: Data) async -> Attempt {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "pisync-relay")
        request.body = .bytes(ByteBuffer(bytes: body))
        do {
            let response = try await client.execute(request, timeout: TimeAmount(timeout))
            // Read the body whatever the status, so that the connection can be reused.
            let answer = (try? await response.body.collect(upTo: 64 * 1024)).map { String(buffer: $0) } ?? ""
            let summary = "HTTP \(response.status.code)" + (answer.isEmpty ? "" : " \(Self.excerpt(answer))")
            switch response.status.code {
            case 200..<300:
                return .accepted
            case 408, 429, 500..<600:
                let retryAfter = response.headers.first(name: "Retry-After").flatMap { RetryAfter.delay($0) }
                return .retryable(summary, retryAfter: retryAfter)
            case 300..<400:
                let location = response.headers.first(name: "Location").map { " to \($0)" } ?? ""
                return .refused("\(summary) (a redirect\(location): give the final URL as --webhook)")
            default:
                return .refused(summary)
            }
        } catch {
            return .retryable(Self.describe(error), retryAfter: nil)
        }
    }

    /// An error of the HTTP client as a person reads it.
    static func describe(_ error: any Error) -> String {
        switch error {
        case let error as HTTPClientError:
            error.shortDescription.lowercased()
        case let error as NIOConnectionError:
            error.connectionErrors.first.map { describe($0.error) } ?? "cannot resolve the webhook's host"
        case let error as IOError:
            String(cString: strerror(error.errnoCode))
        default:
            "\(error)"
        }
    }

    /// The first line of a response body, at most 200 characters.
    static func excerpt(_ text: String) -> String {
        let line = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        return line.count > 200 ? String(line.prefix(200)) + "…" : line
    }

    /// `1.5 s`, or `0.04 s` under a second.
    static func seconds(_ duration: Duration) -> String {
        String(format: duration < .seconds(1) ? "%.2f s" : "%.1f s", duration.inSeconds)
    }
}
