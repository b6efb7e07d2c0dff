import Foundation
import Testing

/// deploy/prometheus/pisync-rules.yml and deploy/grafana/pisync-dashboard.json stay true to
/// the metrics a real server exports: every `pisync_*` name they use is scraped from one.
@Suite("deploy/ monitoring files", .timeLimit(.minutes(1)))
struct DeployMonitoringTests {
    static let deploy = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("deploy")

    static func text(_ path: String) throws -> String {
        try String(contentsOf: deploy.appendingPathComponent(path), encoding: .utf8)
    }

    /// Every `pisync_…` metric name in `text`.
    static func metricNames(in text: String) -> Set<String> {
        let regex = /pisync_[a-z_]+[a-z]/
        return Set(text.matches(of: regex).map { String($0.output) })
    }

    @Test("every metric the rules and the dashboard use is exported by a real server")
    func namesExist() async throws {
        let rules = try Self.text("prometheus/pisync-rules.yml")
        let dashboard = try Self.text("grafana/pisync-dashboard.json")
        let used = Self.metricNames(in: rules).union(Self.metricNames(in: dashboard))
        #expect(used.count >= 15)
        try await AdminTestServer.with { server in
            let exported = MetricsText(try await server.get("/metrics").body).names
            for name in used.sorted() {
                #expect(exported.contains(name), "\(name) is used in deploy/ but not exported")
            }
        }
    }

    @Test("the rules cover down, not ready, fsync latency and alert storms; the dashboard is Grafana JSON")
    func coverage() throws {
        let rules = try Self.text("prometheus/pisync-rules.yml")
        for alert in ["PiSyncDown", "PiSyncNotReady", "PiSyncFsyncSlow", "PiSyncAlertStorm"] {
            #expect(rules.contains("- alert: \(alert)\n"), "no rule \(alert)")
        }
        #expect(rules.contains(#"up{job="pisync"} == 0"#))
        let data = try Data(contentsOf: Self.deploy.appendingPathComponent("grafana/pisync-dashboard.json"))
        let dashboard = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let panels = try #require(dashboard["panels"] as? [[String: Any]])
        #expect(panels.count >= 10)
        for panel in panels {
            let targets = panel["targets"] as? [[String: Any]] ?? []
            #expect(!targets.isEmpty && targets.allSatisfy { ($0["expr"] as? String)?.isEmpty == false })
        }
    }
}
