import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// A webhook for the relay tests: a real HTTP server on 127.0.0.1 that answers the first POSTs
/// as its script says (a status, with or without `Retry-After`, a connection closed without
/// an answer, or a late 200), and every later one with 200.
final class WebhookReceiver: Sendable {
    /// How to answer one POST.
    enum Answer: Sendable, Equatable {
        case status(Int, retryAfter: String? = nil)
        case drop
        /// 200, after a wait.
        case slow(Duration)
        case accept
    }

    /// One POST as it arrived, and how it was answered.
    struct Attempt: Sendable {
        let body: Data
        let at: ContinuousClock.Instant
        let answer: Answer

        /// The body as a JSON object (empty when it is not one).
        var json: [String: any Sendable] {
            ((try? JSONSerialization.jsonObject(with: body)) as? [String: any Sendable]) ?? [:]
        }
    }

    private let log: Mutex<(script: [Answer], attempts: [Attempt])>
    /// The URL to give the relay.
    let url: String

    private init(script: [Answer], port: Int) {
        log = Mutex((script, []))
        url = "http://127.0.0.1:\(port)/hooks/pisync"
    }

    /// Every POST so far, in arrival order.
    var attempts: [Attempt] { log.withLock { $0.attempts } }

    /// The bodies of the POSTs answered with 200, as JSON objects.
    var accepted: [[String: any Sendable]] { attempts.filter { $0.answer == .accept }.map(\.json) }

    private func answer(_ body: Data) -> Answer {
        log.withLock { log in
            let answer = log.script.isEmpty ? .accept : log.script.removeFirst()
            log.attempts.append(Attempt(body: body, at: .now, answer: answer))
            return answer
        }
    }

    /// Runs a receiver with `script` for the span of `body`.
    static func with<T>(script: [Answer] = [], _ body: (WebhookReceiver) async throws -> T) async throws -> T {
        let holder = Mutex<WebhookReceiver?>(nil)
        let router = Router(context: ChannelRequestContext.self)
        router.post("/hooks/pisync") { request, context -> Response in
            let bytes = try await request.body.collect(upTo: 1 << 20)
            guard let receiver = holder.withLock({ $0 }) else { return Response(status: .serviceUnavailable) }
            switch receiver.answer(Data(bytes.readableBytesView)) {
            case .accept:
                return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "ok")))
            case .status(let code, let retryAfter):
                var headers = HTTPFields()
                if let retryAfter { headers[.retryAfter] = retryAfter }
                return Response(status: .init(code: code), headers: headers, body: .init(byteBuffer: ByteBuffer(string: "no\n")))
            case .slow(let wait):
                try await Task.sleep(for: wait)
                return Response(status: .ok)
            case .drop:
                try await context.channel.close()
                return Response(status: .ok)  // never written: the connection is gone
            }
        }
        let (ports, portContinuation) = AsyncStream<Int>.makeStream()
        let logger = Logger(label: "webhook-receiver", factory: { _ in SwiftLogNoOpLogHandler() })
        let application = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { portContinuation.yield($0.localAddress?.port ?? 0) }, logger: logger)
        let group = ServiceGroup(services: [application], logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = ports.makeAsyncIterator()
            let receiver = WebhookReceiver(script: script, port: await iterator.next() ?? 0)
            holder.withLock { $0 = receiver }
            let result: Result<T, any Error>
            do {
                result = .success(try await body(receiver))
            } catch {
                result = .failure(error)
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return try result.get()
        }
    }
}

/// Hummingbird's basic context, plus the connection, so that a handler can drop it.
struct ChannelRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}
