import PiSyncPersistence
import Synchronization

/// Whether the server is ready, and why not: what `/readyz` on the admin port and Ping's
/// `health` report.
///
/// The server is ready once its data directory is recovered and it listens, while its disk
/// takes writes (``WriteAheadLog/fault``), and until it begins to shut down.
public final class ServerHealth: Sendable {
    /// Where the server is in its life.
    public enum Phase: String, Sendable {
        /// Built, not yet recovering.
        case starting
        /// Loading the snapshot and replaying the log.
        case recovering
        /// Recovered, not listening yet.
        case recovered
        /// Listening and answering.
        case serving
        /// Draining after SIGTERM or SIGINT.
        case shuttingDown = "shutting_down"
        /// Recovery failed or the server stopped.
        case stopped
    }

    /// Readiness at one moment.
    public struct Status: Sendable, Equatable {
        /// True when every check passes.
        public var ready: Bool { reasons.isEmpty }
        /// Why the server is not ready, one sentence each; empty when ready.
        public var reasons: [String]
        /// Where the server is in its life.
        public var phase: Phase
    }

    private struct State {
        var phase = Phase.starting
        var log: WriteAheadLog?
        var failure: String?
    }

    private let state = Mutex(State())

    /// A health record for a server that is starting.
    public init() {}

    /// Moves to `phase`; a server that began to shut down or stopped never becomes ready again.
    public func enter(_ phase: Phase) {
        state.withLock { state in
            if state.phase == .stopped || (state.phase == .shuttingDown && phase != .stopped) { return }
            state.phase = phase
        }
    }

    /// Recovery failed with `message`: the server will not serve.
    public func failed(_ message: String) {
        state.withLock { state in
            state.failure = message
            state.phase = .stopped
        }
    }

    /// Watches `log`'s disk faults from now on.
    public func watch(_ log: WriteAheadLog) {
        state.withLock { $0.log = log }
    }

    /// The status now.
    public var status: Status {
        let (phase, log, failure) = state.withLock { ($0.phase, $0.log, $0.failure) }
        var reasons: [String] = []
        switch phase {
        case .starting: reasons.append("starting")
        case .recovering: reasons.append("recovering the data directory")
        case .recovered: reasons.append("recovered; not listening yet")
        case .serving: break
        case .shuttingDown: reasons.append("shutting down")
        case .stopped: reasons.append(failure.map { "recovery failed: \($0)" } ?? "stopped")
        }
        if let fault = log?.fault {
            reasons.append("the event log cannot be written (\(fault)); RecordSync answers UNAVAILABLE until it can")
        }
        return Status(reasons: reasons, phase: phase)
    }
}
