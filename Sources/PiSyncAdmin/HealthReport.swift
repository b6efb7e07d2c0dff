import Hummingbird
import PiSyncServer

/// The JSON body of `/healthz` and `/readyz`:
/// `{"ready":false,"status":"not_ready","phase":"recovering","reasons":["recovering the data directory"]}`.
struct HealthReport: ResponseEncodable {
    /// "serving" (healthz), "ready" or "not_ready" (readyz).
    var status: String
    var ready: Bool
    /// ``ServerHealth/Phase``'s raw value.
    var phase: String
    var reasons: [String]

    init(_ health: ServerHealth.Status, status: String) {
        self.status = status
        self.ready = health.ready
        self.phase = health.phase.rawValue
        self.reasons = health.reasons
    }
}
